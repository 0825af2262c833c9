using System.Net.WebSockets;
using CsCheck;
using Eddy.WebSockets.Internal;
using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>The sending half: headers with minimal lengths, masking in pieces as whole, close payloads; all read back by the decoder.</summary>
public sealed class WebSocketFrameWriterTests
{
    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65535, 4)]
    [InlineData(65536, 10)]
    public void AServersFrameHasTheMinimalHeaderAndAClientReadsIt(int length, int headerLength)
    {
        byte[] payload = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var frame = new byte[WebSocketFrameWriter.MaxHeaderLength + length];
        int header = WebSocketFrameWriter.WriteHeader(frame, WebSocketOpcode.Binary, fin: true, length);
        Assert.Equal(headerLength, header);
        Assert.Equal(headerLength, WebSocketFrameWriter.HeaderLength(length, masked: false));
        payload.CopyTo(frame, header);
        Assert.Equal(["binary:" + Convert.ToHexString(payload)], Decode(frame[..(header + length)], [4096], isServer: false));
    }

    [Fact]
    public void AClientsMaskedFrameIsReadByAServer()
    {
        byte[] payload = "masked payload, longer than one vector of the mask: 0123456789abcdef0123456789abcdef"u8.ToArray();
        var frame = new byte[WebSocketFrameWriter.MaxHeaderLength + payload.Length];
        const uint key = 0xA1B2C3D4;
        int header = WebSocketFrameWriter.WriteHeader(frame, WebSocketOpcode.Text, fin: true, payload.Length, key);
        WebSocketMask.Apply(payload, frame.AsSpan(header), key, 0);
        Assert.Equal(["text:" + System.Text.Encoding.UTF8.GetString(payload)], DecodeEverySplit(frame[..(header + payload.Length)]));
    }

    [Fact]
    public void MaskingInPiecesGivesTheSameBytesAsMaskingWhole()
    {
        Gen.Select(Gen.Byte.Array[0, 700], Gen.UInt, Gen.Int[1, 70].Array[1, 6]).Sample((payload, key, pieces) =>
        {
            var whole = new byte[payload.Length];
            WebSocketMask.Apply(payload, whole, key, 0);
            var inPieces = (byte[])payload.Clone();
            int offset = 0;
            for (int at = 0, i = 0; at < payload.Length; i++)
            {
                int n = Math.Min(pieces[i % pieces.Length], payload.Length - at);
                offset = WebSocketMask.Apply(inPieces.AsSpan(at, n), inPieces.AsSpan(at, n), key, offset); // in place
                at += n;
            }
            for (int i = 0; i < payload.Length; i++)
            {
                if (whole[i] != (byte)(payload[i] ^ (byte)(key >> (8 * (i & 3)))) || inPieces[i] != whole[i])
                {
                    return false;
                }
            }
            return true;
        }, iter: 5_000);
    }

    [Fact]
    public void AClosePayloadIsTheCodeThenTheReason()
    {
        var payload = new byte[125];
        int n = WebSocketFrameWriter.WriteClosePayload(payload, WebSocketCloseStatus.NormalClosure, "bye");
        Assert.Equal(new byte[] { 0x03, 0xE8, (byte)'b', (byte)'y', (byte)'e' }, payload[..n]);
        Assert.Equal(0, WebSocketFrameWriter.WriteClosePayload(payload, WebSocketCloseStatus.Empty, null));
    }
}
