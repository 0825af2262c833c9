using System.Text;

namespace Eddy.WebSockets.Internal;

/// <summary>
/// What permessage-deflate's negotiation agreed (RFC 7692 §7.1), from one endpoint's side: whether its own
/// compressor starts afresh for every message, the window its peer can hold (so how far back its compressor may
/// reach), and whether the peer starts afresh (its inflater may then be freed between messages).
/// </summary>
internal readonly record struct DeflateParameters(bool SendNoContextTakeover, int SendWindowBits, bool ReceiveNoContextTakeover)
{
    /// <summary>zlib's largest window, the one <see cref="System.IO.Compression.DeflateStream"/> always uses.</summary>
    public const int MaxWindowBits = 15;
}

/// <summary>
/// permessage-deflate's negotiation (RFC 7692 §5, §7.1): parsing <c>Sec-WebSocket-Extensions</c>, a server's choice
/// among a client's offers and its answer, a client's offer and its check of the answer. Parameters are checked as
/// §7.1 says: an unknown one, a repeated one, or a bad value declines an offer (server) or fails the connect (client).
/// </summary>
internal static class PerMessageDeflateNegotiation
{
    public const string Name = "permessage-deflate";

    private const string ServerNoContextTakeover = "server_no_context_takeover";
    private const string ClientNoContextTakeover = "client_no_context_takeover";
    private const string ServerMaxWindowBits = "server_max_window_bits";
    private const string ClientMaxWindowBits = "client_max_window_bits";

    /// <summary>
    /// The server's side: the first permessage-deflate offer in <paramref name="offers"/> (every
    /// <c>Sec-WebSocket-Extensions</c> value, in order) that it can accept; returns the answer's field value, or null
    /// when there is none (the connection is then uncompressed).
    /// </summary>
    public static string? Accept(IEnumerable<string> offers, WebSocketCompressionOptions options, out DeflateParameters agreed)
    {
        foreach (string value in offers)
        {
            foreach (Extension offer in Parse(value))
            {
                if (!offer.Name.Equals(Name, StringComparison.OrdinalIgnoreCase) || ReadParameters(offer, isAnswer: false, out Parameters o) is not null)
                {
                    continue; // another extension, or an offer we must decline (§7.1): try the next
                }
                bool serverFresh = o.ServerNoContextTakeover || !options.ServerContextTakeover;
                bool clientFresh = o.ClientNoContextTakeover || !options.ClientContextTakeover;
                var answer = new StringBuilder(Name);
                if (serverFresh)
                {
                    answer.Append("; ").Append(ServerNoContextTakeover);
                }
                if (clientFresh)
                {
                    answer.Append("; ").Append(ClientNoContextTakeover);
                }
                if (o.ServerMaxWindowBits is int bits)
                {
                    answer.Append("; ").Append(ServerMaxWindowBits).Append('=').Append(bits); // §7.1.2.1: granted as asked
                }
                // client_max_window_bits, offered or not, needs no answer: our inflater takes any window up to 15.
                agreed = new DeflateParameters(serverFresh, o.ServerMaxWindowBits ?? DeflateParameters.MaxWindowBits, clientFresh);
                return answer.ToString();
            }
        }
        agreed = default;
        return null;
    }

    /// <summary>The client's offer: its context choices, and <c>client_max_window_bits</c> (so the server may ask for a smaller window).</summary>
    public static string Offer(WebSocketCompressionOptions options)
    {
        var offer = new StringBuilder(Name);
        if (!options.ServerContextTakeover)
        {
            offer.Append("; ").Append(ServerNoContextTakeover);
        }
        if (!options.ClientContextTakeover)
        {
            offer.Append("; ").Append(ClientNoContextTakeover);
        }
        offer.Append("; ").Append(ClientMaxWindowBits);
        return offer.ToString();
    }

    /// <summary>
    /// The client's check of the server's <c>Sec-WebSocket-Extensions</c> after it offered permessage-deflate:
    /// null when it is a valid acceptance (<paramref name="agreed"/> set), else what is wrong with it.
    /// </summary>
    public static string? CheckAnswer(string answer, WebSocketCompressionOptions options, out DeflateParameters agreed)
    {
        agreed = default;
        List<Extension> extensions = Parse(answer);
        if (extensions.Count != 1 || !extensions[0].Name.Equals(Name, StringComparison.OrdinalIgnoreCase))
        {
            return "the server answered with extensions that were not offered";
        }
        if (ReadParameters(extensions[0], isAnswer: true, out Parameters p) is { } bad)
        {
            return $"the server's permessage-deflate parameter \"{bad}\" is unknown, repeated or out of range";
        }
        agreed = new DeflateParameters(p.ClientNoContextTakeover || !options.ClientContextTakeover,
            p.ClientMaxWindowBits ?? DeflateParameters.MaxWindowBits, p.ServerNoContextTakeover);
        return null;
    }

    /// <summary>The four parameters of §7.1, as an offer or an answer gives them.</summary>
    private readonly record struct Parameters(bool ServerNoContextTakeover, bool ClientNoContextTakeover, int? ServerMaxWindowBits, int? ClientMaxWindowBits);

    /// <summary>
    /// Reads an element's parameters; returns the first one that is unknown, repeated or out of range (as written), or
    /// null. The one rule that differs: <c>client_max_window_bits</c> may come without a value in an offer (§7.1.2.2),
    /// but an answer must give one.
    /// </summary>
    private static string? ReadParameters(Extension element, bool isAnswer, out Parameters result)
    {
        result = default;
        bool serverFresh = false, clientFresh = false, clientBitsSeen = false;
        int? serverBits = null, clientBits = null;
        foreach ((string name, string? value) in element.Parameters)
        {
            bool ok = name.ToLowerInvariant() switch
            {
                ServerNoContextTakeover => value is null && Once(ref serverFresh),
                ClientNoContextTakeover => value is null && Once(ref clientFresh),
                ServerMaxWindowBits => serverBits is null && TryBits(value, out serverBits),
                ClientMaxWindowBits => Once(ref clientBitsSeen) && ((value is null && !isAnswer) || TryBits(value, out clientBits)),
                _ => false,
            };
            if (!ok)
            {
                return value is null ? name : name + "=" + value;
            }
        }
        result = new Parameters(serverFresh, clientFresh, serverBits, clientBits);
        return null;
    }

    private static bool Once(ref bool seen)
    {
        if (seen)
        {
            return false;
        }
        seen = true;
        return true;
    }

    /// <summary>A window size: 1*DIGIT in 8..15 (§7.1.2), no leading zero.</summary>
    private static bool TryBits(string? value, out int? bits)
    {
        bits = null;
        if (value is null || value.Length is < 1 or > 2 || value[0] == '0' || !value.All(char.IsAsciiDigit))
        {
            return false;
        }
        int n = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        if (n is < 8 or > 15)
        {
            return false;
        }
        bits = n;
        return true;
    }

    /// <summary>One element of an extension list: its name and parameters (values unquoted; null for a parameter without one).</summary>
    internal sealed record Extension(string Name, List<(string Name, string? Value)> Parameters);

    /// <summary>
    /// RFC 6455 §9.1's grammar: <c>extension *( "," extension )</c>, <c>extension = name *( ";" param )</c>,
    /// <c>param = token [ "=" (token | quoted-string) ]</c>. Separators inside quoted strings are data.
    /// </summary>
    internal static List<Extension> Parse(string value)
    {
        var result = new List<Extension>();
        foreach (string element in Split(value, ','))
        {
            List<string> parts = Split(element, ';');
            if (parts.Count == 0)
            {
                continue;
            }
            var parameters = new List<(string, string?)>();
            for (int i = 1; i < parts.Count; i++)
            {
                int eq = parts[i].IndexOf('=');
                parameters.Add(eq < 0 ? (parts[i], null) : (parts[i][..eq].Trim(), Unquote(parts[i][(eq + 1)..].Trim())));
            }
            result.Add(new Extension(parts[0], parameters));
        }
        return result;
    }

    /// <summary>The trimmed, non-empty pieces of <paramref name="value"/> between <paramref name="separator"/>s outside quotes.</summary>
    private static List<string> Split(string value, char separator)
    {
        var pieces = new List<string>();
        bool quoted = false;
        int start = 0;
        for (int i = 0; i <= value.Length; i++)
        {
            if (i < value.Length)
            {
                char c = value[i];
                if (c == '"')
                {
                    quoted = !quoted;
                    continue;
                }
                if (c == '\\' && quoted)
                {
                    i++;
                    continue;
                }
                if (quoted || c != separator)
                {
                    continue;
                }
            }
            string piece = value[start..Math.Min(i, value.Length)].Trim(' ', '\t');
            if (piece.Length > 0)
            {
                pieces.Add(piece);
            }
            start = i + 1;
        }
        return pieces;
    }

    private static string Unquote(string value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"')
        {
            return value;
        }
        var unquoted = new StringBuilder(value.Length);
        for (int i = 1; i < value.Length - 1; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length - 1)
            {
                i++;
            }
            unquoted.Append(value[i]);
        }
        return unquoted.ToString();
    }
}
