using System.Net;
using Eddy.Transports;

namespace Eddy.Microbenchmarks;

/// <summary>A transport that keeps nothing: it only counts what the connection writes.</summary>
internal sealed class CountingTransport : Transport
{
    public int BytesWritten;
    public byte[] Last = [];

    public override Protocol Protocol { get; set; } = null!;

    public override void Write(ReadOnlySpan<byte> data)
    {
        BytesWritten += data.Length;
        if (Last.Length == 0)
        {
            Last = data.ToArray();
        }
    }

    public override void WriteEof() => throw new NotSupportedException();

    public override void Close() => throw new InvalidOperationException("The benchmark's connection was closed.");

    public override void Abort() => Close();

    public override bool IsClosing => false;

    public override void PauseReading() => throw new InvalidOperationException("The benchmark's connection paused reading.");

    public override void ResumeReading()
    {
    }

    public override bool IsReading => true;

    public override int WriteBufferSize => 0;

    public override int WriteBufferHighWaterMark => 64 * 1024;

    public override int WriteBufferLowWaterMark => 16 * 1024;

    public override void SetWriteBufferLimits(int high, int? low = null)
    {
    }

    public override EndPoint? LocalEndPoint => null;

    public override EndPoint? RemoteEndPoint => null;
}
