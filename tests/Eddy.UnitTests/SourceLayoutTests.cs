using System.Reflection;
using System.Text.RegularExpressions;
using Eddy.Loop;

namespace Eddy.UnitTests;

/// <summary>
/// The layout ARCHITECTURE.md promises, checked over the library's source files and types: the tree shows
/// the layers, so a reader can trust a file's folder to say what it is and what it may use.
/// </summary>
public sealed partial class SourceLayoutTests
{
    /// <summary>The layers, lowest first, by namespace; a layer may use its own namespace and those of the layers below.</summary>
    private static readonly string[] s_layers =
    [
        "Eddy.Interop",
        "Eddy.Sockets",
        "Eddy.Selectors",
        "Eddy.Loop",
        "Eddy.Transports",
        "Eddy.Tls",
        "Eddy.Streams",
        "Eddy.Http.Parsing",
        "Eddy.Http",
        "Eddy.WebSockets",
        "Eddy.Web.Routing",
        "Eddy.Web",
        "Eddy.Hosting",
    ];

    private static readonly Assembly s_library = typeof(EventLoop).Assembly;

    [Fact]
    public void EveryFilesNamespaceIsItsFolder()
    {
        string root = LibrarySourceRoot();
        var wrong = new List<string>();
        foreach (string file in SourceFiles(root))
        {
            string relative = Path.GetRelativePath(root, Path.GetDirectoryName(file)!);
            string expected = relative == "." ? "Eddy" : "Eddy." + relative.Replace(Path.DirectorySeparatorChar, '.');
            string[] declared = NamespaceDeclaration().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value).ToArray();
            if (declared is not [string only] || only != expected)
            {
                wrong.Add($"{Path.GetRelativePath(root, file)}: namespace {string.Join(", ", declared)}, expected {expected}");
            }
        }
        Assert.True(wrong.Count == 0, "Namespace and folder differ:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void ALayerImportsOnlyItselfAndTheLayersBelow()
    {
        string root = LibrarySourceRoot();
        var upward = new List<string>();
        foreach (string file in SourceFiles(root))
        {
            string text = File.ReadAllText(file);
            string own = NamespaceDeclaration().Match(text).Groups[1].Value;
            foreach (Match import in UsingDirective().Matches(text))
            {
                string used = import.Groups[1].Value;
                if (LayerOf(used) > LayerOf(own))
                {
                    upward.Add($"{Path.GetRelativePath(root, file)} ({own}) uses {used}");
                }
            }
        }
        Assert.True(upward.Count == 0, "A layer reaches up:\n" + string.Join("\n", upward));
    }

    [Fact]
    public void HelpersInInternalFoldersAreNotPublic()
    {
        string[] exposed = s_library.GetExportedTypes()
            .Where(t => t.Namespace is { } ns && ns.EndsWith(".Internal", StringComparison.Ordinal))
            .Select(t => t.FullName!)
            .ToArray();
        Assert.Empty(exposed);
    }

    /// <summary>As dotnet/runtime keeps its Interop internal: callers of the layers above never import the OS layer.</summary>
    [Fact]
    public void TheInteropLayerIsNotPublic()
    {
        string[] exposed = s_library.GetExportedTypes()
            .Where(t => t.Namespace == "Eddy.Interop")
            .Select(t => t.FullName!)
            .ToArray();
        Assert.Empty(exposed);
    }

    /// <summary>The rank of the layer <paramref name="ns"/> belongs to; -1 for what every layer may use (Eddy, Eddy.Internal).</summary>
    private static int LayerOf(string ns)
    {
        // Longest first, so that Eddy.Http.Parsing is found before Eddy.Http.
        foreach (string layer in s_layers.OrderByDescending(l => l.Length))
        {
            if (ns == layer || ns.StartsWith(layer + ".", StringComparison.Ordinal))
            {
                return Array.IndexOf(s_layers, layer);
            }
        }
        return -1;
    }

    private static IEnumerable<string> SourceFiles(string root) =>
        Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal);

    /// <summary>src/Eddy, found from the test's output directory up to the repository root (the folder of Eddy.slnx).</summary>
    private static string LibrarySourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Eddy.slnx")))
            {
                return Path.Combine(dir.FullName, "src", "Eddy");
            }
        }
        throw new InvalidOperationException($"No Eddy.slnx above {AppContext.BaseDirectory}: these tests read the library's sources.");
    }

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"^using\s+(?:static\s+)?(Eddy(?:\.\w+)*)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();
}
