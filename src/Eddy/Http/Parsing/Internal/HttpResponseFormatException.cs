namespace Eddy.Http.Parsing.Internal;

/// <summary>A response <see cref="HttpResponseReader"/> cannot frame: what follows it cannot be framed either, so the connection must close.</summary>
internal sealed class HttpResponseFormatException(string message) : Exception(message);
