using System.CommandLine;
using System.Globalization;

namespace Eddy.Cli.Cert;

/// <summary><c>eddy cert create</c>: a self-signed development certificate and its key, as PEM files (see <see cref="DevelopmentCertificate"/>).</summary>
internal static class CertCommand
{
    private const int MaxDays = 3650;

    public static Command Create() => new("cert", "Certificates for HTTPS") { CreateCreate() };

    private static Command CreateCreate()
    {
        var output = new Option<string>("--out") { Description = "Folder to write cert.pem and key.pem to (made if missing)", HelpName = "DIR", Required = true };
        var hosts = new Option<string[]>("--host")
        {
            Description = "A DNS name or IP address the certificate is for (repeatable; default: localhost, 127.0.0.1 and ::1)",
            HelpName = "NAME",
            Arity = ArgumentArity.OneOrMore,
        };
        var days = new Option<int>("--days") { Description = "How many days it is valid", HelpName = "N", DefaultValueFactory = _ => 365 };
        var force = new Option<bool>("--force") { Description = "Overwrite cert.pem and key.pem when they exist" };
        var command = new Command("create", "Write a self-signed development certificate (DIR/cert.pem) and its private key (DIR/key.pem, mode 0600), like dotnet dev-certs")
        {
            output, hosts, days, force,
        };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(output)!;
            string[] names = parse.GetValue(hosts) is { Length: > 0 } given ? given : DevelopmentCertificate.DefaultNames;
            foreach (string name in names)
            {
                if (DevelopmentCertificate.Problem(name) is { } problem)
                {
                    throw new UserError($"--host '{name}' is not a DNS name or an IP address: {problem}");
                }
            }
            int validDays = parse.GetValue(days);
            if (validDays is < 1 or > MaxDays)
            {
                throw new UserError($"--days must be between 1 and {MaxDays}, not {validDays}");
            }
            return Run(folder, names.Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), validDays, parse.GetValue(force));
        });
        return command;
    }

    private static int Run(string folder, string[] names, int days, bool overwrite)
    {
        string certificatePath = Path.Combine(folder, "cert.pem");
        string keyPath = Path.Combine(folder, "key.pem");
        if (!overwrite)
        {
            foreach (string path in new[] { certificatePath, keyPath })
            {
                if (File.Exists(path) || Directory.Exists(path))
                {
                    throw new UserError($"{path} already exists (--force overwrites it)");
                }
            }
        }
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"cannot make the folder {folder}: {e.Message}");
        }

        var (certificatePem, keyPem, certificate) = DevelopmentCertificate.Create(names, days);
        using (certificate)
        {
            // The key first: should the certificate then fail, no certificate is left without its key.
            WriteFile(keyPath, keyPem, UnixFileMode.UserRead | UnixFileMode.UserWrite, overwrite);
            WriteFile(certificatePath, certificatePem, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, overwrite);
            Console.WriteLine($"eddy cert create: wrote {certificatePath} and {keyPath}");
            Console.WriteLine($"  self-signed ECDSA P-256 certificate for {string.Join(", ", names)}, valid until {certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC");
            Console.WriteLine($"  serve: eddy serve --tls-cert {certificatePath} --tls-key {keyPath}");
            Console.WriteLine($"  trust: curl --cacert {certificatePath} https://{UrlHost(names[0])}:8080/");
        }
        return 0;
    }

    private static string UrlHost(string name) => name.Contains(':') ? $"[{name}]" : name;

    /// <summary>
    /// Writes to a new file beside <paramref name="path"/> made with <paramref name="mode"/> (so a key is never
    /// readable by others, not even for a moment), then renames it over <paramref name="path"/>: a server watching the
    /// folder sees whole files only.
    /// </summary>
    private static void WriteFile(string path, string text, UnixFileMode mode, bool overwrite)
    {
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var file = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
            {
                file.Write(System.Text.Encoding.ASCII.GetBytes(text));
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new UserError(File.Exists(path) && !overwrite ? $"{path} already exists (--force overwrites it)" : $"cannot write {path}: {e.Message}");
        }
    }
}
