using Eddy.WebSockets;
using Eddy.WebSockets.Internal;

namespace Eddy.UnitTests.WebSockets;

/// <summary>permessage-deflate's negotiation (RFC 7692 §7.1): a server's choice among offers and its answer, a client's offer and its check of the answer.</summary>
public sealed class PerMessageDeflateNegotiationTests
{
    private static readonly WebSocketCompressionOptions s_defaults = new();

    private static string? Accept(string offers, WebSocketCompressionOptions? options = null) =>
        PerMessageDeflateNegotiation.Accept([offers], options ?? s_defaults, out _);

    [Theory]
    [InlineData("permessage-deflate", "permessage-deflate")]
    [InlineData("permessage-deflate; client_max_window_bits", "permessage-deflate")]                   // browsers, ws, websockets
    [InlineData("permessage-deflate; client_max_window_bits=10", "permessage-deflate")]
    [InlineData("PerMessage-Deflate; Server_No_Context_Takeover", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover")]
    [InlineData("permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10")]
    [InlineData("permessage-deflate; server_max_window_bits=\"9\"", "permessage-deflate; server_max_window_bits=9")] // a quoted value (§7.1)
    [InlineData("x-webkit-deflate-frame, permessage-deflate", "permessage-deflate")]                   // another extension first
    [InlineData("permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover",
        "permessage-deflate; client_no_context_takeover")]                                              // the first acceptable offer
    public void TheServerAcceptsTheFirstOfferItCan(string offers, string answer)
    {
        Assert.Equal(answer, Accept(offers));
    }

    [Theory]
    [InlineData("x-webkit-deflate-frame")]
    [InlineData("permessage-deflate; server_max_window_bits")]          // a value is required
    [InlineData("permessage-deflate; server_max_window_bits=16")]
    [InlineData("permessage-deflate; server_max_window_bits=08")]
    [InlineData("permessage-deflate; client_max_window_bits=7")]
    [InlineData("permessage-deflate; server_no_context_takeover=1")]    // no value allowed
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover")] // repeated
    [InlineData("permessage-deflate; client_max_window_bits; client_max_window_bits=10")]
    [InlineData("permessage-deflate; unknown_parameter")]
    [InlineData("permessage-deflate; client_max_window_bits=\"8,\"")]   // a comma inside quotes is data, and not a number
    public void AnOfferWithAnUnknownRepeatedOrBadParameterIsDeclined(string offers)
    {
        Assert.Null(Accept(offers));
    }

    [Fact]
    public void TheServersOwnChoicesAreAnsweredAndAgreed()
    {
        var options = new WebSocketCompressionOptions { ServerContextTakeover = false, ClientContextTakeover = false };
        string? answer = PerMessageDeflateNegotiation.Accept(["permessage-deflate; server_max_window_bits=12"], options, out DeflateParameters agreed);
        Assert.Equal("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12", answer);
        Assert.Equal(new DeflateParameters(SendNoContextTakeover: true, SendWindowBits: 12, ReceiveNoContextTakeover: true), agreed);

        PerMessageDeflateNegotiation.Accept(["permessage-deflate"], s_defaults, out agreed);
        Assert.Equal(new DeflateParameters(false, 15, false), agreed);
    }

    [Fact]
    public void TheClientOffersItsChoicesAndAWindowTheServerMayLimit()
    {
        Assert.Equal("permessage-deflate; client_max_window_bits", PerMessageDeflateNegotiation.Offer(s_defaults));
        Assert.Equal("permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits",
            PerMessageDeflateNegotiation.Offer(new WebSocketCompressionOptions { ServerContextTakeover = false, ClientContextTakeover = false }));
    }

    [Theory]
    [InlineData("permessage-deflate", false, 15, false)]
    [InlineData("permessage-deflate; server_no_context_takeover", false, 15, true)]
    [InlineData("permessage-deflate; client_no_context_takeover; client_max_window_bits=9", true, 9, false)]
    [InlineData("permessage-deflate; server_max_window_bits=10", false, 15, false)]
    public void TheClientAcceptsAValidAnswer(string answer, bool sendFresh, int sendBits, bool receiveFresh)
    {
        Assert.Null(PerMessageDeflateNegotiation.CheckAnswer(answer, s_defaults, out DeflateParameters agreed));
        Assert.Equal(new DeflateParameters(sendFresh, sendBits, receiveFresh), agreed);
    }

    [Theory]
    [InlineData("x-webkit-deflate-frame")]
    [InlineData("permessage-deflate, permessage-deflate")]
    [InlineData("permessage-deflate; client_max_window_bits")]          // the server must give a value
    [InlineData("permessage-deflate; server_max_window_bits=20")]
    [InlineData("permessage-deflate; mystery")]
    [InlineData("permessage-deflate; client_no_context_takeover; client_no_context_takeover")]
    public void TheClientRefusesAnAnswerItCannotHonour(string answer)
    {
        Assert.NotNull(PerMessageDeflateNegotiation.CheckAnswer(answer, s_defaults, out _));
    }
}
