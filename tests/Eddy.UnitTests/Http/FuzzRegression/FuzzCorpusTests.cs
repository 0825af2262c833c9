using Eddy.Fuzz;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.FuzzRegression;

/// <summary>
/// Replays the kept fuzz corpus (Http/FuzzCorpus/TARGET: every crash and hang afl-fuzz found, and a
/// minimized sample of its queue) through the harness's own checks (fuzz/Eddy.Fuzz/Checks, compiled
/// into this assembly): each input parses, asks for more, or is rejected with HttpRejectException,
/// with every span and count inside the input, and the same outcome whole and in pieces.
/// </summary>
public sealed class FuzzCorpusTests
{
    private static readonly string s_corpus = Path.Combine(AppContext.BaseDirectory, "Http", "FuzzCorpus");

    public static TheoryData<string, string> CorpusFiles()
    {
        var files = new TheoryData<string, string>();
        foreach (string target in FuzzTargets.Names)
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(s_corpus, target)).Order(StringComparer.Ordinal))
            {
                files.Add(target, Path.GetFileName(file));
            }
        }
        return files;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public async Task EveryKeptFuzzInputPassesTheHarnessChecks(string target, string file)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(s_corpus, target, file));
        // A parser that loops forever fails here (TimeoutException) instead of hanging the run.
        await Task.Run(() => FuzzTargets.Run(target, input)).WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void EveryTargetKeepsACorpus()
    {
        foreach (string target in FuzzTargets.Names)
        {
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(s_corpus, target)));
        }
    }
}
