using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.Fuzz;

/// <summary>
/// The fuzz targets: what the harness runs for each input under afl-fuzz, and what the unit tests
/// replay for each file of the kept corpus (this file is compiled into both). A target returns
/// normally when the parser behaved: it parsed, asked for more bytes, or threw its own
/// <see cref="HttpRejectException"/>. Anything else escapes as an exception, which afl-fuzz counts
/// as a crash: another exception type, a span or a count outside the input, a call that made no
/// progress, or (in the split targets) a different outcome for the same bytes arriving in pieces.
/// </summary>
public static class FuzzTargets
{
    /// <summary>The target names, as given on the command line and as the corpus folders are named.</summary>
    public static IReadOnlyList<string> Names { get; } = ["head", "split", "chunked", "stream", "connection", "websocket", "multipart"];

    public static bool IsKnown(string name) => Names.Contains(name);

    /// <summary>
    /// Runs one input through a target and returns the transcript of what was parsed; throws
    /// <see cref="FuzzCheckException"/> (or whatever the parser threw) on a finding.
    /// </summary>
    public static string Run(string target, byte[] input) => target switch
    {
        // The request head parser over the whole input at once.
        "head" => RequestPipeline.Run(input, 0, input.Length, PieceSchedule.Whole, FuzzLimits.Small, FuzzLimits.SmallBody, PipelineMode.Head),
        // The same head, whole and in pieces: the same outcome.
        "split" => RunWholeAndInPieces(input, PipelineMode.Head),
        // A chunked body (after the control bytes), whole and in pieces.
        "chunked" => RunWholeAndInPieces(input, PipelineMode.Chunked),
        // Pipelined requests, each head then its body by its framing, as HttpConnection reads them.
        "stream" => RunWholeAndInPieces(input, PipelineMode.Stream),
        // The same kind of stream through a whole connection and an application: the same responses either way.
        "connection" => ConnectionTarget.Run(input),
        // WebSocket frames through the decoder, whole and in pieces into a small buffer: the same messages either way.
        "websocket" => WebSocketTarget.Run(input),
        // A multipart/form-data body through its parser, whole and in pieces: the same parts, data and verdict.
        "multipart" => MultipartTarget.Run(input),
        _ => throw new ArgumentException($"unknown fuzz target '{target}'", nameof(target)),
    };

    /// <summary>The differential check: the pieces are chosen by the control bytes at the start of the input.</summary>
    private static string RunWholeAndInPieces(byte[] input, PipelineMode mode)
    {
        var control = ControlBytes.Read(input);
        string whole = RequestPipeline.Run(input, control.DataStart, input.Length, PieceSchedule.Whole, control.Limits, control.MaxBodySize, mode);
        string pieces = RequestPipeline.Run(input, control.DataStart, input.Length, control.Schedule, control.Limits, control.MaxBodySize, mode);
        if (whole != pieces)
        {
            throw new FuzzCheckException($"whole and in pieces ({control.Schedule}) differ:\n--- whole\n{Cap(whole)}\n--- in pieces\n{Cap(pieces)}");
        }
        return whole;
    }

    private static string Cap(string transcript) => transcript.Length <= 4000 ? transcript : transcript[..4000] + "…";
}

/// <summary>A finding: the parser broke its contract.</summary>
public sealed class FuzzCheckException(string message) : Exception(message);

/// <summary>The limits the targets parse under.</summary>
internal static class FuzzLimits
{
    /// <summary>Small, so that inputs of a few hundred bytes reach every limit and its edge.</summary>
    public static HttpParserLimits Small { get; } = new()
    {
        MaxRequestLineLength = 96,
        MaxHeaderBytes = 256,
        MaxHeaderCount = 8,
        MaxChunkExtensionLength = 16,
    };

    /// <summary>The body limit that goes with the small limits.</summary>
    public const long SmallBody = 1024;
}

/// <summary>
/// The first bytes of a split, chunked or stream input choose how it is fed, so that the fuzzer
/// explores splits as it explores content: byte 0 holds a count n (bits 0-2) and a flag (bit 3) for
/// the default limits instead of the small ones; the next n bytes are piece sizes (1-64, from their
/// low 6 bits), used in turn. With n = 0 the input arrives one byte at a time. The request bytes follow.
/// </summary>
internal readonly record struct ControlBytes(int DataStart, PieceSchedule Schedule, HttpParserLimits Limits, long? MaxBodySize)
{
    public static ControlBytes Read(byte[] input)
    {
        if (input.Length == 0)
        {
            return new ControlBytes(0, PieceSchedule.Whole, FuzzLimits.Small, FuzzLimits.SmallBody);
        }
        int count = Math.Min(input[0] & 7, input.Length - 1);
        var sizes = new int[count];
        for (int i = 0; i < count; i++)
        {
            sizes[i] = (input[1 + i] & 63) + 1;
        }
        bool small = (input[0] & 8) == 0;
        return new ControlBytes(1 + count, count == 0 ? PieceSchedule.OneByte : new PieceSchedule(sizes),
            small ? FuzzLimits.Small : HttpParserLimits.Default, small ? FuzzLimits.SmallBody : null);
    }
}

/// <summary>The sizes of the pieces the input arrives in, used in turn; <see cref="Whole"/> is all of it at once.</summary>
internal sealed class PieceSchedule(int[] sizes)
{
    public static PieceSchedule Whole { get; } = new([int.MaxValue]);

    public static PieceSchedule OneByte { get; } = new([1]);

    public int Size(int piece) => sizes[piece % sizes.Length];

    public override string ToString() => string.Join(",", sizes);
}
