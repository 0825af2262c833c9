// HTTPS, and a TLS client connection: TLS is an argument of the same calls; the handler or protocol sees plaintext.
// Run it: dotnet run --project samples/06-TlsHello             (listens on 127.0.0.1:8443)
//         dotnet run --project samples/06-TlsHello -- 0        (any free port; the first line says which)
// Try it: curl --cacert cert.pem https://localhost:8443/      (the files are in the working directory)
//
// Without cert.pem and key.pem in the working directory, it first makes a self-signed certificate for
// localhost (a real server loads the files its CA issued). Once serving, it connects to itself over TLS,
// trusting that certificate, and prints the answer.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;
using Eddy.Web;

if (!File.Exists("cert.pem") || !File.Exists("key.pem"))
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
    var names = new SubjectAlternativeNameBuilder();
    names.AddDnsName("localhost");
    request.CertificateExtensions.Add(names.Build());
    using X509Certificate2 selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
    File.WriteAllText("cert.pem", selfSigned.ExportCertificatePem());
    File.WriteAllText("key.pem", key.ExportPkcs8PrivateKeyPem());
}

var app = new WebApp();
app.MapGet("/", ctx => ctx.Response.Text(ctx.Request.IsHttps ? "hello over TLS\n" : "hello\n"));
int port = args.Length > 0 ? int.Parse(args[0]) : 8443;
using var loops = new LoopGroup();                   // one loop per core
loops.Start();

using TlsCertificate certificate = TlsCertificate.FromPemFiles("cert.pem", "key.pem", watch: true); // or FromPfxFile
var tls = new TlsServerOptions { Certificates = { certificate } };   // several: chosen by SNI, the first is the default
GroupServer server = await app.ListenAsync(loops, new IPEndPoint(IPAddress.Loopback, port), tls);   // ctx.Request.IsHttps
certificate.ReloadFailed += (_, e) => Console.Error.WriteLine(e.GetException().Message);
Console.WriteLine($"listening on https://{server.EndPoint}");

EventLoop.Run(async loop =>
{
    var client = new TlsClientOptions();  // SNI: the host; checked against the system's CAs (or TrustedCertificateAuthorities)
    client.TrustedCertificateAuthorities.Add(certificate.Certificate);   // here, our own self-signed one
    var (transport, protocol) = await loop.CreateConnectionAsync(() => new GetOnce(), "localhost", ((IPEndPoint)server.EndPoint).Port, client);
    Console.Write(await protocol.Answer);
});
await Task.Delay(Timeout.Infinite);

/// <summary>Sends one GET and collects the answer until the server closes.</summary>
sealed class GetOnce : Protocol
{
    private readonly StringBuilder _received = new();
    private readonly TaskCompletionSource<string> _answer = new();
    public Task<string> Answer => _answer.Task;
    public override void ConnectionMade(Transport transport) =>
        transport.Write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8);
    public override void DataReceived(ReadOnlySpan<byte> data) => _received.Append(Encoding.UTF8.GetString(data));
    public override void ConnectionLost(Exception? error) => _answer.TrySetResult(_received.ToString());
}
