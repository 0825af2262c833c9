using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Eddy.FunctionalTests.WebSockets;

/// <summary>
/// A one-connection server on plain blocking sockets that reads a WebSocket handshake request and then runs a
/// script: it answers however the test wants (wrong accept, a redirect, masked frames, one byte at a time), so the
/// client is checked against bytes no Eddy code produced. Binds 127.0.0.1:0; every read has a timeout.
/// </summary>
internal sealed class ScriptedWebSocketServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _run;

    public ScriptedWebSocketServer(Func<Connection, Task> script)
    {
        _listener.Start(1);
        _run = Task.Run(async () =>
        {
            using Socket socket = await _listener.AcceptSocketAsync();
            socket.NoDelay = true;
            socket.ReceiveTimeout = 20_000;
            var connection = new Connection(socket);
            connection.ReadRequest();
            await script(connection);
        });
    }

    public Uri Url(string path = "/") => new($"ws://{_listener.LocalEndpoint}{path}");

    /// <summary>Waits for the script to end (rethrowing what it threw), bounded.</summary>
    public void WaitForScript() => Assert.True(_run.Wait(TimeSpan.FromSeconds(20)), "the scripted server did not finish within 20 s");

    public void Dispose() => _listener.Stop();

    public static string Accept(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));

    internal sealed class Connection(Socket socket)
    {
        private readonly List<byte> _pending = [];

        public Socket Socket => socket;

        /// <summary>The request's head lines, as received.</summary>
        public string[] RequestLines { get; private set; } = [];

        public string Key => Field("Sec-WebSocket-Key")!;

        public string? Field(string name) => RequestLines.Skip(1)
            .Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();

        /// <summary>A 101 with the right accept, and <paramref name="extra"/> fields (each ending with CRLF).</summary>
        public string GoodAnswer(string extra = "") =>
            $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {Accept(Key)}\r\n{extra}\r\n";

        public void ReadRequest()
        {
            var head = new List<byte>();
            while (!EndsWithBlankLine(head))
            {
                head.Add(ReadByte());
            }
            RequestLines = Encoding.Latin1.GetString(head.ToArray()).TrimEnd('\r', '\n').Split("\r\n");
        }

        private static bool EndsWithBlankLine(List<byte> b) =>
            b.Count >= 4 && b[^4] == '\r' && b[^3] == '\n' && b[^2] == '\r' && b[^1] == '\n';

        public void Send(string text) => Send(Encoding.Latin1.GetBytes(text));

        public void Send(byte[] bytes) => socket.Send(bytes);

        /// <summary>Sends one byte per send(2): the client sees every split.</summary>
        public void SendBytewise(byte[] bytes)
        {
            foreach (byte b in bytes)
            {
                socket.Send([b]);
            }
        }

        public byte ReadByte()
        {
            if (_pending.Count > 0)
            {
                byte first = _pending[0];
                _pending.RemoveAt(0);
                return first;
            }
            var one = new byte[1];
            if (socket.Receive(one) == 0)
            {
                throw new EndOfStreamException("the client closed");
            }
            return one[0];
        }

        /// <summary>Reads one frame from the client: its opcode, whether it was masked, its key, its unmasked payload, and its RSV1 bit.</summary>
        public (int Opcode, bool Fin, bool Masked, byte[] Key, byte[] Payload, bool Rsv1) ReadFrame()
        {
            byte b0 = ReadByte();
            byte b1 = ReadByte();
            long length = b1 & 0x7F;
            if (length == 126)
            {
                length = (ReadByte() << 8) | ReadByte();
            }
            else if (length == 127)
            {
                length = 0;
                for (int i = 0; i < 8; i++)
                {
                    length = (length << 8) | ReadByte();
                }
            }
            bool masked = (b1 & 0x80) != 0;
            byte[] key = masked ? [ReadByte(), ReadByte(), ReadByte(), ReadByte()] : [];
            var payload = new byte[length];
            for (long i = 0; i < length; i++)
            {
                payload[i] = (byte)(ReadByte() ^ (masked ? key[i % 4] : 0));
            }
            return (b0 & 0x0F, (b0 & 0x80) != 0, masked, key, payload, (b0 & 0x40) != 0);
        }
    }

    /// <summary>An unmasked server frame.</summary>
    public static byte[] Frame(int opcode, byte[] payload, bool fin = true, bool rsv1 = false)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode) };
        if (payload.Length <= 125)
        {
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add(126);
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        frame.AddRange(payload);
        return frame.ToArray();
    }
}
