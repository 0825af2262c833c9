using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Eddy.Web.Routing.Internal;

/// <summary>
/// The whole paths that are a chain of literal segments from the root to a node where routes end exactly
/// (<c>/plaintext</c>, <c>/users/me</c>, <c>""</c> for the root), each with that node's
/// <see cref="RouteNode{TEndpoint}.Exact"/> table, looked up by the request's raw path bytes in one step instead
/// of a segment walk. Keys are <c>"/" + segments joined by "/"</c> (the root: empty) and compare as
/// <see cref="AsciiCase"/> does per segment: ASCII letters case-insensitively, everything else exactly.
/// <para>
/// Only keys that <see cref="CanHold"/> go in: ASCII without '%'. A raw path equal to such a key (up to letter case)
/// is then ASCII without '%' itself, so percent-decoding leaves it as it is, and the decoded path the tree walks is
/// the same text. Any other raw path simply misses. Filled once at build time and never grown, so a client cannot
/// lengthen a chain: the hash need not be randomized, only cheap.
/// </para>
/// </summary>
internal sealed class LiteralPathTable<TEndpoint>
{
    /// <summary>Letters differ from their other case in bit 0x20 only: set it in every byte and both cases hash alike.</summary>
    private const ulong Fold = 0x2020202020202020;
    private const uint Fold4 = 0x20202020;

    private readonly byte[][] _keys;
    private readonly MethodTable<TEndpoint>[] _routes;

    /// <summary>Entry index + 1 of each chain's head, 0 for none. A power of two long.</summary>
    private readonly int[] _buckets;

    /// <summary>Entry index + 1 of the next entry in the chain, 0 at the end.</summary>
    private readonly int[] _next;

    public LiteralPathTable(IReadOnlyList<(string Path, MethodTable<TEndpoint> Routes)> entries)
    {
        _keys = new byte[entries.Count][];
        _routes = new MethodTable<TEndpoint>[entries.Count];
        _buckets = new int[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(entries.Count * 2, 1))];
        _next = new int[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            (string path, MethodTable<TEndpoint> routes) = entries[i];
            if (!CanHold(path))
            {
                throw new ArgumentException($"The path '{path}' cannot be a key: it is not ASCII or contains '%'.", nameof(entries));
            }
            _keys[i] = Encoding.ASCII.GetBytes(path);
            _routes[i] = routes;
            ref int head = ref _buckets[Hash(_keys[i]) & (uint)(_buckets.Length - 1)];
            _next[i] = head;
            head = i + 1;
        }
    }

    /// <summary>How many whole paths the table holds.</summary>
    public int Count => _keys.Length;

    /// <summary>
    /// True when every raw path that equals <paramref name="path"/> up to letter case decodes to that same text:
    /// ASCII (a non-ASCII character arrives as UTF-8 bytes or escapes) and no '%' (which arrives as <c>%25</c>).
    /// </summary>
    public static bool CanHold(string path) => Ascii.IsValid(path) && !path.Contains('%');

    /// <summary>The routes that end at <paramref name="path"/> (raw bytes, the trailing '/' already dropped), or null.</summary>
    public MethodTable<TEndpoint>? Find(ReadOnlySpan<byte> path)
    {
        int entry = _buckets[Hash(path) & (uint)(_buckets.Length - 1)];
        while (entry != 0)
        {
            // Ascii.EqualsIgnoreCase folds letters only and rejects non-ASCII bytes: AsciiCase's rule for ASCII keys.
            if (path.SequenceEqual(_keys[entry - 1]) || Ascii.EqualsIgnoreCase(_keys[entry - 1], path)) // the template's own case first: a few loads
            {
                return _routes[entry - 1];
            }
            entry = _next[entry - 1];
        }
        return null;
    }

    /// <summary>
    /// The length and the folded first and last eight (or four) bytes: a constant number of loads however long the
    /// path, where a byte-by-byte hash would cost as much as the comparison it saves. Keys that differ only in the
    /// middle share a chain; the chains are fixed by the route set, not by clients.
    /// </summary>
    private static uint Hash(ReadOnlySpan<byte> path)
    {
        ulong bits;
        if (path.Length >= sizeof(ulong))
        {
            ulong first = BinaryPrimitives.ReadUInt64LittleEndian(path) | Fold;
            ulong last = BinaryPrimitives.ReadUInt64LittleEndian(path[^sizeof(ulong)..]) | Fold;
            bits = first ^ BitOperations.RotateLeft(last, 31);
        }
        else if (path.Length >= sizeof(uint))
        {
            ulong first = BinaryPrimitives.ReadUInt32LittleEndian(path) | Fold4;
            ulong last = BinaryPrimitives.ReadUInt32LittleEndian(path[^sizeof(uint)..]) | Fold4;
            bits = first | last << 32;
        }
        else
        {
            bits = 0;
            foreach (byte b in path)
            {
                bits = bits << 8 | b | 0x20u;
            }
        }
        // Fibonacci hashing: the multiply spreads every input bit into the high half the buckets are taken from.
        return (uint)((bits ^ (ulong)path.Length) * 0x9E3779B97F4A7C15 >> 32);
    }
}
