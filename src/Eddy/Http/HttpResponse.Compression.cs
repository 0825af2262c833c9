using System.Buffers;
using System.IO.Compression;
using System.Text;
using Eddy.Http.Internal;

namespace Eddy.Http;

// Response compression (app.UseResponseCompression): the middleware negotiates a coding and hands it here; the body
// helpers then compress what they send. A whole body (Text, Bytes, Json) is compressed in one step into a pooled
// buffer and sent with its compressed Content-Length; a streamed body (WriteAsync, BeginBody) goes chunked, each write
// compressed and flushed (a sync flush), so what a handler flushes reaches the client. Nothing here runs unless the
// middleware is in use: the body helpers test one field.
public sealed partial class HttpResponse
{
    private ResponseCompressionOptions? _compression; // set per request by the middleware; null: no compression
    private ContentCoding _coding;
    private GZipStream? _gzip;                        // a streamed body's encoder, gzip…
    private BrotliEncoder _brotli;                    // …or brotli (_streamCoding says which)
    private ContentCoding _streamCoding;
    private ArrayBufferWriter<byte>? _compressed;     // a streamed body's compressed bytes, between writes

    /// <summary>Whether the body is being compressed as it streams (the static files then read and write, no sendfile).</summary>
    internal bool IsCompressing => _streamCoding != ContentCoding.Identity;

    /// <summary>Turns compression on for this response: <paramref name="coding"/> is what the client accepts (Identity: only Vary is added).</summary>
    internal void EnableCompression(ResponseCompressionOptions options, ContentCoding coding)
    {
        _compression = options;
        _coding = coding;
        _gzipLevel = options.GzipLevel;
        _brotliQuality = options.BrotliQuality;
    }

    /// <summary>
    /// Whether this response's body is compressed, decided once its type and status are known: adds
    /// <c>Vary: Accept-Encoding</c> to a compressible response (the answer depended on that field even when it is not
    /// compressed), and <c>Content-Encoding</c> when it is.
    /// </summary>
    private bool DecideCompression(long length)
    {
        ResponseCompressionOptions options = _compression!;
        _compression = null; // decided once
        if (IsHead || _statusCode is < 200 or 204 or 206 or 304 || !options.IsCompressible(ContentType)
            || Headers["Content-Encoding"] is not null || Headers["Content-Range"] is not null)
        {
            return false;
        }
        AddVary();
        if (_coding == ContentCoding.Identity || (length >= 0 && length < options.MinimumSize))
        {
            return false;
        }
        Headers.Set("Content-Encoding", ContentCodings.Name(_coding));
        if (Headers["ETag"] is { } etag && !etag.StartsWith("W/", StringComparison.Ordinal))
        {
            Headers.Set("ETag", "W/" + etag); // the bytes differ from the identity response's: no longer the same strong validator (as nginx)
        }
        return true;
    }

    private void AddVary()
    {
        string? vary = Headers["Vary"];
        if (vary is null)
        {
            Headers.Set("Vary", "Accept-Encoding");
        }
        else if (!vary.Contains("Accept-Encoding", StringComparison.OrdinalIgnoreCase) && vary.Trim() != "*")
        {
            Headers.Set("Vary", vary + ", Accept-Encoding");
        }
    }

    /// <summary><see cref="Text"/>'s compressed path: false when the response is not compressed (the caller sends the text).</summary>
    private bool TextCompressed(string text)
    {
        if (!DecideCompression(Encoding.UTF8.GetByteCount(text)))
        {
            return false; // decided before encoding: a response left as it is costs no copy
        }
        byte[] utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(text, utf8);
            return WriteCompressed(utf8.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    /// <summary>Sends <paramref name="body"/> compressed, if this response is; false: the caller sends it as it is.</summary>
    private bool TryWriteCompressed(ReadOnlySpan<byte> body) => DecideCompression(body.Length) && WriteCompressed(body);

    /// <summary>Compresses and sends <paramref name="body"/>, compression decided; false if it did not shrink (sent as it is by the caller).</summary>
    private bool WriteCompressed(ReadOnlySpan<byte> body)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(body.Length + body.Length / 8 + 64);
        try
        {
            int written = _coding == ContentCoding.Brotli ? Brotli(body, buffer) : Gzip(body, buffer, _gzipLevel);
            if (written < 0)
            {
                // Incompressible beyond the buffer's slack: send it as it is (the fields say so: no Content-Encoding).
                Headers.Remove("Content-Encoding");
                return false;
            }
            WriteHead(written);
            BodyBytes = written;
            _output.Write(buffer.AsSpan(0, written));
            IsCompleted = true;
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private CompressionLevel _gzipLevel;
    private int _brotliQuality;

    private int Brotli(ReadOnlySpan<byte> body, byte[] buffer) =>
        BrotliEncoder.TryCompress(body, buffer, out int written, _brotliQuality, 22) ? written : -1;

    private static int Gzip(ReadOnlySpan<byte> body, byte[] buffer, CompressionLevel level)
    {
        var destination = new MemoryStream(buffer, writable: true); // fixed capacity: overflow is NotSupportedException
        try
        {
            using (var gzip = new GZipStream(destination, level, leaveOpen: true))
            {
                gzip.Write(body);
            }
            return (int)destination.Position;
        }
        catch (NotSupportedException)
        {
            return -1;
        }
    }

    /// <summary>At a streamed body's head: whether it is compressed; if so, the encoder is made and the framing is chunked.</summary>
    private bool BeginCompressedStream()
    {
        if (!DecideCompression(-1))
        {
            return false;
        }
        _streamCoding = _coding;
        _compressed ??= new ArrayBufferWriter<byte>(4096);
        if (_coding == ContentCoding.Gzip)
        {
            _gzip = new GZipStream(new BufferWriterStream(_compressed), _gzipLevel, leaveOpen: false);
        }
        else
        {
            _brotli = new BrotliEncoder(_brotliQuality, 22);
        }
        return true;
    }

    /// <summary>Compresses <paramref name="data"/> (flushed: whole and decodable so far) into <see cref="_compressed"/>, or finishes the stream.</summary>
    private ReadOnlyMemory<byte> CompressPiece(ReadOnlySpan<byte> data, bool final)
    {
        ArrayBufferWriter<byte> output = _compressed!;
        output.ResetWrittenCount();
        if (_streamCoding == ContentCoding.Gzip)
        {
            if (!data.IsEmpty)
            {
                _gzip!.Write(data);
            }
            if (final)
            {
                _gzip!.Dispose(); // writes the rest and the gzip trailer
                _gzip = null;
            }
            else
            {
                _gzip!.Flush();
            }
        }
        else
        {
            while (true)
            {
                Span<byte> destination = output.GetSpan(Math.Max(4096, BrotliEncoder.GetMaxCompressedLength(data.Length)));
                OperationStatus status = _brotli.Compress(data, destination, out int consumed, out int written, isFinalBlock: final);
                output.Advance(written);
                data = data[consumed..];
                if (status == OperationStatus.InvalidData)
                {
                    throw new InvalidOperationException("The brotli encoder refused its input.");
                }
                if (status != OperationStatus.DestinationTooSmall && data.IsEmpty)
                {
                    break;
                }
            }
            if (!final)
            {
                OperationStatus flushed;
                do
                {
                    flushed = _brotli.Flush(output.GetSpan(4096), out int written);
                    output.Advance(written);
                }
                while (flushed == OperationStatus.DestinationTooSmall);
            }
            else
            {
                _brotli.Dispose();
                _brotli = default;
            }
        }
        if (final)
        {
            _streamCoding = ContentCoding.Identity;
        }
        return output.WrittenMemory;
    }

    /// <summary>Drops a streamed body's encoder (a response reset before it completed).</summary>
    private void ResetCompression()
    {
        _compression = null;
        if (_streamCoding == ContentCoding.Gzip)
        {
            _gzip?.Dispose();
            _gzip = null;
        }
        else if (_streamCoding == ContentCoding.Brotli)
        {
            _brotli.Dispose();
            _brotli = default;
        }
        _streamCoding = ContentCoding.Identity;
    }
}
