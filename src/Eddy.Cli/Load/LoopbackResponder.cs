using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Eddy.Cli.Cert;

namespace Eddy.Cli.Load;

/// <summary>
/// A throwaway blocking server on 127.0.0.1 for the warm-ups: it accepts one client at a time and hands
/// it to a serve function, on a thread of its own, until disposed. With <c>tls</c> it speaks TLS first, with a
/// development certificate for localhost made for the purpose (clients must not check it).
/// </summary>
internal sealed class LoopbackResponder : IDisposable
{
    private readonly Socket _listener;
    private readonly Thread _thread;
    private readonly X509Certificate2? _certificate;

    private LoopbackResponder(Socket listener, Action<Stream> serveClient, X509Certificate2? certificate)
    {
        _listener = listener;
        _certificate = certificate;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _thread = new Thread(() => Serve(serveClient)) { Name = "eddy-load-warmup", IsBackground = true };
        _thread.Start();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Null when there is no IPv4 loopback here: the caller then runs cold rather than not at all.</summary>
    public static LoopbackResponder? TryStart(Action<Stream> serveClient, bool tls = false)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
        }
        catch (SocketException)
        {
            listener.Dispose();
            return null;
        }
        X509Certificate2? certificate = null;
        if (tls)
        {
            X509Certificate2 ephemeral = DevelopmentCertificate.Create(["localhost"], 1).Certificate;
            // OpenSSL wants the key in a real store format, not the ephemeral one CreateSelfSigned returns.
            certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
            ephemeral.Dispose();
        }
        return new LoopbackResponder(listener, serveClient, certificate);
    }

    private void Serve(Action<Stream> serveClient)
    {
        try
        {
            while (true)
            {
                using Socket client = _listener.Accept();
                client.ReceiveTimeout = 5000; // a warm-up takes well under a second: never wait on a client for ever
                using var stream = new NetworkStream(client, ownsSocket: false);
                if (_certificate is null)
                {
                    serveClient(stream);
                    continue;
                }
                using var tls = new SslStream(stream);
                try
                {
                    tls.AuthenticateAsServer(_certificate);
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                {
                    continue; // the client gave up (the run ended mid-handshake): take the next
                }
                serveClient(tls);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The listener was closed: the warm-up is over.
        }
    }

    public void Dispose()
    {
        _listener.Close(); // ends the blocked Accept
        _thread.Join();
        _certificate?.Dispose();
    }
}
