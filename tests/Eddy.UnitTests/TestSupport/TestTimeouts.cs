namespace Eddy.UnitTests.TestSupport;

/// <summary>Every wait in a test is bounded, so a bug fails the test instead of hanging the run.</summary>
internal static class TestTimeouts
{
    /// <summary>Long enough never to trip on a loaded machine; only a bug reaches it.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
}
