namespace Eddy.Http.Internal;

/// <summary><see cref="HttpContext.Services"/> when the server was given none: every lookup answers null.</summary>
internal sealed class NoServices : IServiceProvider
{
    public static readonly NoServices Instance = new();

    public object? GetService(Type serviceType) => null;
}
