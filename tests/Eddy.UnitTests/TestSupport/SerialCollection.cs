namespace Eddy.UnitTests.TestSupport;

/// <summary>
/// Tests that must not share the process with other running tests: they close a descriptor and rely on its
/// number staying free, count the process's open descriptors, or change an environment variable.
/// xUnit runs this collection by itself, after the parallel collections have finished.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (process-wide state)";
}
