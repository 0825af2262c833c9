using System.Buffers;
using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.Web.Forms.Internal;

/// <summary>
/// Drives a <see cref="MultipartParser"/> over a request body: a pooled buffer holds what the parser has not
/// consumed (a partial delimiter, a header block not yet whole), refilled from <see cref="HttpRequest.Body"/>, which
/// reads from the socket only as this asks (back-pressure: a slow handler slows the client). Loop thread only.
/// </summary>
internal sealed class MultipartReader : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly HttpRequest _request;
    private readonly MultipartParser _parser;
    private readonly FormOptions _options;
    private byte[] _buffer;
    private int _start, _end;
    private long _total;
    private bool _inPart;

    public MultipartReader(HttpRequest request, ReadOnlySpan<byte> boundary, FormOptions options)
    {
        _request = request;
        _options = options;
        _parser = new MultipartParser(boundary, options.MaxParts, options.MaxPartHeaderBytes);
        // Room for the largest header block and what may follow it in the same read.
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(BufferSize, options.MaxPartHeaderBytes + 4096));
    }

    /// <summary>The next part, after skipping what is left of the current one; null once the form has ended.</summary>
    public async ValueTask<MultipartSection?> NextAsync(CancellationToken cancellationToken)
    {
        while (_inPart)
        {
            await SkipPartAsync(cancellationToken);
        }
        while (true)
        {
            MultipartEvent next = _parser.Next(_buffer.AsSpan(_start, _end - _start), out int consumed, out _);
            _start += consumed;
            switch (next)
            {
                case MultipartEvent.PartStart:
                    _inPart = true;
                    return new MultipartSection(this, _parser.Name, _parser.FileName, _parser.ContentType);
                case MultipartEvent.End:
                    await SkipEpilogueAsync(cancellationToken);
                    return null;
                case MultipartEvent.NeedMore:
                    if (!await FillAsync(cancellationToken))
                    {
                        _parser.Finish(); // throws: the body ended before the close delimiter
                        return null;
                    }
                    break;
                default:
                    throw new InvalidOperationException($"The multipart parser gave {next} outside a part.");
            }
        }
    }

    /// <summary>Reads the current part's data; 0 at its end.</summary>
    public async ValueTask<int> ReadPartAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (!_inPart || destination.IsEmpty)
        {
            return 0;
        }
        while (true)
        {
            MultipartEvent next = _parser.Next(_buffer.AsSpan(_start, _end - _start), out int consumed, out int dataLength);
            if (next == MultipartEvent.Data)
            {
                int n = Math.Min(dataLength, destination.Length); // any prefix of the data may be taken
                _buffer.AsSpan(_start, n).CopyTo(destination.Span);
                _start += n;
                return n;
            }
            _start += consumed;
            if (next == MultipartEvent.PartEnd)
            {
                _inPart = false;
                return 0;
            }
            if (!await FillAsync(cancellationToken))
            {
                _parser.Finish();
            }
        }
    }

    /// <summary>Skips the current part's data without copying it.</summary>
    private async ValueTask SkipPartAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            MultipartEvent next = _parser.Next(_buffer.AsSpan(_start, _end - _start), out int consumed, out _);
            _start += consumed;
            if (next == MultipartEvent.PartEnd)
            {
                _inPart = false;
                return;
            }
            if (next == MultipartEvent.NeedMore && !await FillAsync(cancellationToken))
            {
                _parser.Finish();
            }
        }
    }

    /// <summary>Reads the epilogue to the end of the body (counted, not kept), so the connection can take the next request.</summary>
    private async ValueTask SkipEpilogueAsync(CancellationToken cancellationToken)
    {
        _start = _end = 0;
        while (await FillAsync(cancellationToken))
        {
            _start = _end = 0;
        }
    }

    /// <summary>Moves the unconsumed bytes to the front and reads more after them; false at the end of the body.</summary>
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        int n = await _request.Body.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (n == 0)
        {
            return false;
        }
        _end += n;
        _total += n;
        if (_total > _options.MaxTotalSize)
        {
            throw new HttpRejectException(HttpRejectReason.FormTooLarge, $"Form data too large: the body is over {_options.MaxTotalSize} bytes.");
        }
        return true;
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
