using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Eddy.Tls;

/// <summary>
/// A server certificate with its private key and the chain sent with it, and the host names it serves
/// (for SNI, see <see cref="TlsServerOptions.Certificates"/>). Built once into an
/// <see cref="SslStreamCertificateContext"/>, so a handshake does not rebuild the chain.
/// <para>
/// Reload: a certificate loaded from files with <c>watch: true</c> watches their folders and loads the files
/// again when they change (written in place, or replaced by a rename or a symlink swap, as certbot and
/// Kubernetes do), a moment after the last change of a burst. The new certificate is published atomically:
/// handshakes that start afterwards use it; established connections keep theirs. Loading happens on a
/// thread-pool thread, never on a loop. A reload that fails (a half-written file, a key that does not match)
/// keeps the previous certificate and raises <see cref="ReloadFailed"/>; one that succeeds raises
/// <see cref="Reloaded"/>. <see cref="Dispose"/> stops watching.
/// </para>
/// </summary>
public sealed class TlsCertificate : IDisposable
{
    /// <summary>
    /// How long the files must stay quiet before they are loaded: a renewal writes several files (certificate,
    /// chain, key) in a burst, and loading in the middle of it would pair a new certificate with the old key.
    /// </summary>
    private static readonly TimeSpan DefaultDebounce = TimeSpan.FromMilliseconds(500);

    private readonly string[]? _hostNames;   // set once: the names given, or null to read them from the certificate
    private readonly CertificateFiles? _files; // set once: where a reload reads from, or null (not from files)
    private readonly Lock _reloadLock = new();  // one load at a time; guards the fields below
    private volatile Loaded _current;          // what handshakes use: swapped whole, so context and names always agree
    private byte[]? _lastAttempt;              // hash of the file contents last loaded or last failed: unchanged files are not reloaded
    private FileSystemWatcher[]? _watchers;
    private Timer? _debounce;
    private bool _isDisposed;

    private TlsCertificate(Loaded loaded, IEnumerable<string>? hostNames, CertificateFiles? files)
    {
        _current = loaded;
        _hostNames = hostNames?.Select(n => n.ToLowerInvariant()).ToArray();
        _files = files;
        _lastAttempt = loaded.Hash;
    }

    /// <summary>Raised (on a thread-pool thread; a handler must not throw) after the files changed and the new certificate
    /// was loaded and published.</summary>
    public event EventHandler? Reloaded;

    /// <summary>
    /// Raised (on a thread-pool thread; a handler must not throw) when the files changed but could not be loaded; the previous certificate is
    /// still served. The exception is a <see cref="TlsConfigurationException"/> whose message names the file and the reason.
    /// </summary>
    public event ErrorEventHandler? ReloadFailed;

    /// <summary>
    /// A certificate from <paramref name="leaf"/> (which must hold its private key) and the intermediate
    /// certificates sent after it. <paramref name="hostNames"/> are the names it serves for SNI; null: the
    /// DNS names of its Subject Alternative Name extension (or its common name when it has none).
    /// </summary>
    public static TlsCertificate FromCertificate(X509Certificate2 leaf, X509Certificate2Collection? chain = null, IEnumerable<string>? hostNames = null)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        if (!leaf.HasPrivateKey)
        {
            throw new ArgumentException($"The certificate {leaf.Subject} has no private key.", nameof(leaf));
        }
        return new TlsCertificate(new Loaded(CreateContext(leaf, chain), hash: null), hostNames, files: null);
    }

    /// <summary>
    /// A certificate from PEM files: <paramref name="certificatePath"/> holds the certificate, then any
    /// intermediates of its chain; <paramref name="keyPath"/> its private key (PKCS#8, PKCS#1 or SEC1,
    /// unencrypted). Throws <see cref="TlsConfigurationException"/> with a one-line reason when a file is
    /// missing or unreadable or the key does not match the certificate. With <paramref name="watch"/>, the
    /// files are reloaded when they change (see the type's summary); dispose the certificate to stop.
    /// </summary>
    public static TlsCertificate FromPemFiles(string certificatePath, string keyPath, IEnumerable<string>? hostNames = null, bool watch = false)
    {
        ArgumentNullException.ThrowIfNull(certificatePath);
        ArgumentNullException.ThrowIfNull(keyPath);
        return FromFiles(new CertificateFiles(Path.GetFullPath(certificatePath), Path.GetFullPath(keyPath), Password: null), hostNames, watch);
    }

    /// <summary>
    /// A certificate from a PKCS#12 (PFX) file holding the certificate with its private key and, optionally, the
    /// intermediates of its chain; <paramref name="password"/> opens it (null or empty for none). Throws
    /// <see cref="TlsConfigurationException"/> with a one-line reason when the file is missing or unreadable, the
    /// password is wrong or no certificate in it has a private key. With <paramref name="watch"/>, the file is
    /// reloaded when it changes (see the type's summary).
    /// </summary>
    public static TlsCertificate FromPfxFile(string path, string? password, IEnumerable<string>? hostNames = null, bool watch = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromFiles(new CertificateFiles(Path.GetFullPath(path), KeyPath: null, password ?? ""), hostNames, watch);
    }

    /// <summary>The certificate sent to clients.</summary>
    public X509Certificate2 Certificate => _current.Context.TargetCertificate;

    /// <summary>The names this certificate serves: given, or read from the certificate (the current one, after a reload).</summary>
    public IReadOnlyList<string> HostNames => _hostNames ?? _current.Names;

    /// <summary>True when <paramref name="hostName"/> is one of <see cref="HostNames"/>, or matches a wildcard
    /// name (<c>*.example.com</c> matches <c>a.example.com</c>, not <c>example.com</c> nor <c>a.b.example.com</c>).</summary>
    public bool Matches(string hostName)
    {
        ArgumentNullException.ThrowIfNull(hostName);
        foreach (string name in HostNames)
        {
            if (NameMatches(name, hostName))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Loads the files again now, whether or not they changed, and publishes the result (raising
    /// <see cref="Reloaded"/>), or keeps the current certificate (raising <see cref="ReloadFailed"/>). Returns whether
    /// the new files were taken. For a certificate not made from files, throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public bool Reload()
    {
        if (_files is null)
        {
            throw new InvalidOperationException("This certificate was not loaded from files: there is nothing to reload.");
        }
        return ReloadCore(onlyIfChanged: false);
    }

    /// <summary>Stops watching the files (idempotent). The certificate itself stays usable.</summary>
    public void Dispose()
    {
        FileSystemWatcher[]? watchers;
        lock (_reloadLock)
        {
            if (_isDisposed)
            {
                return;
            }
            _isDisposed = true;
            watchers = _watchers;
            _watchers = null;
            _debounce?.Dispose();
            _debounce = null;
        }
        foreach (FileSystemWatcher watcher in watchers ?? [])
        {
            watcher.Dispose();
        }
    }

    /// <summary>The context handshakes use: the current certificate, its key and its chain.</summary>
    internal SslStreamCertificateContext Context => _current.Context;

    /// <summary>How long the files must stay quiet after a change before they are loaded (tests shorten it).</summary>
    internal TimeSpan Debounce { get; set; } = DefaultDebounce;

    internal static bool NameMatches(string pattern, string hostName)
    {
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            int dot = hostName.IndexOf('.');
            return dot > 0 && hostName.AsSpan(dot).Equals(pattern.AsSpan(1), StringComparison.OrdinalIgnoreCase);
        }
        return string.Equals(pattern, hostName, StringComparison.OrdinalIgnoreCase);
    }

    private static TlsCertificate FromFiles(CertificateFiles files, IEnumerable<string>? hostNames, bool watch)
    {
        var certificate = new TlsCertificate(Load(files), hostNames, files);
        if (watch)
        {
            certificate.StartWatching();
        }
        return certificate;
    }

    /// <summary>
    /// Watches the folders of the files rather than the files: a renewal often replaces a file by renaming
    /// another over it (or swaps a symlink, Kubernetes' <c>..data</c>), which a watch on the old file would miss.
    /// Any change in those folders restarts the debounce timer; unchanged contents are not reloaded.
    /// </summary>
    private void StartWatching()
    {
        CertificateFiles files = _files!;
        string[] folders = new[] { files.CertificatePath, files.KeyPath }
            .OfType<string>()
            .Select(p => Path.GetDirectoryName(p)!)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        lock (_reloadLock)
        {
            // Before the watchers, so that no event finds it missing.
            _debounce = new Timer(static s => ((TlsCertificate)s!).ReloadCore(onlyIfChanged: true), this, Timeout.Infinite, Timeout.Infinite);
        }
        var watchers = new List<FileSystemWatcher>();
        try
        {
            foreach (string folder in folders)
            {
                var watcher = new FileSystemWatcher(folder)
                {
                    IncludeSubdirectories = false,
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite
                        | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.Attributes,
                };
                watcher.Changed += OnFolderChanged;
                watcher.Created += OnFolderChanged;
                watcher.Deleted += OnFolderChanged;
                watcher.Renamed += OnFolderChanged;
                watcher.Error += OnWatcherError; // the kernel's event queue overflowed: something changed, look again
                watchers.Add(watcher);
                watcher.EnableRaisingEvents = true;
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            foreach (FileSystemWatcher watcher in watchers)
            {
                watcher.Dispose();
            }
            Dispose();
            throw new TlsConfigurationException($"cannot watch {string.Join(" and ", folders)} for certificate changes: {OneLine(e.Message)}", e);
        }
        lock (_reloadLock)
        {
            if (!_isDisposed)
            {
                _watchers = [.. watchers];
                return;
            }
        }
        foreach (FileSystemWatcher watcher in watchers)
        {
            watcher.Dispose(); // disposed meanwhile
        }
    }

    private void OnFolderChanged(object sender, FileSystemEventArgs e) => ScheduleReload();

    private void OnWatcherError(object sender, ErrorEventArgs e) => ScheduleReload();

    private void ScheduleReload()
    {
        lock (_reloadLock)
        {
            if (!_isDisposed)
            {
                _debounce?.Change(Debounce, Timeout.InfiniteTimeSpan); // every event pushes the load back: one load per burst
            }
        }
    }

    private bool ReloadCore(bool onlyIfChanged)
    {
        lock (_reloadLock)
        {
            if (onlyIfChanged && _isDisposed)
            {
                return false;
            }
            Loaded loaded;
            try
            {
                Contents contents = Read(_files!);
                if (onlyIfChanged && _lastAttempt is not null && contents.Hash.AsSpan().SequenceEqual(_lastAttempt))
                {
                    return false; // another file in the folder changed, or the same contents were written again
                }
                _lastAttempt = contents.Hash;
                loaded = Parse(_files!, contents);
            }
            catch (TlsConfigurationException e)
            {
                ReloadFailed?.Invoke(this, new ErrorEventArgs(e));
                return false;
            }
            _current = loaded;
            Reloaded?.Invoke(this, EventArgs.Empty);
            return true;
        }
    }

    private static Loaded Load(CertificateFiles files) => Parse(files, Read(files));

    /// <summary>What the files hold now, and a hash of it, to tell a real change from a touch or a change to another file.</summary>
    private static Contents Read(CertificateFiles files)
    {
        byte[] certificate = ReadFile(files.CertificatePath, files.KeyPath is null ? "certificate (PFX) file" : "certificate file");
        byte[]? key = files.KeyPath is null ? null : ReadFile(files.KeyPath, "key file");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(certificate);
        if (key is not null)
        {
            hash.AppendData(key);
        }
        return new Contents(certificate, key, hash.GetHashAndReset());
    }

    private static Loaded Parse(CertificateFiles files, Contents contents)
    {
        try
        {
            return new(files.KeyPath is null ? ParsePfx(files, contents.Certificate) : ParsePem(files, contents.Certificate, contents.Key!), contents.Hash);
        }
        catch (Exception e) when (e is not TlsConfigurationException)
        {
            // What the checks above did not foresee (the chain cannot be built, …): still one line naming the file.
            throw new TlsConfigurationException($"{files.CertificatePath}: {OneLine(e.Message)}", e);
        }
    }

    private static SslStreamCertificateContext ParsePem(CertificateFiles files, byte[] certificateBytes, byte[] keyBytes)
    {
        string certificatePath = files.CertificatePath;
        string keyPath = files.KeyPath!;
        string certificatePem = System.Text.Encoding.ASCII.GetString(certificateBytes);
        string keyPem = System.Text.Encoding.ASCII.GetString(keyBytes);

        // Tell the likely mistakes apart before asking .NET, whose messages do not say which file is wrong.
        List<string> certificateLabels = PemLabels(certificatePem);
        if (!certificateLabels.Contains("CERTIFICATE"))
        {
            throw new TlsConfigurationException($"{certificatePath} holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)");
        }
        List<string> keyLabels = PemLabels(keyPem);
        if (keyLabels.Contains("ENCRYPTED PRIVATE KEY"))
        {
            throw new TlsConfigurationException($"the private key in {keyPath} is encrypted: give it unencrypted (e.g. openssl pkey -in {keyPath} -out plain.pem)");
        }
        if (!keyLabels.Any(l => l is "PRIVATE KEY" or "RSA PRIVATE KEY" or "EC PRIVATE KEY"))
        {
            throw new TlsConfigurationException($"{keyPath} holds no PEM private key (no -----BEGIN PRIVATE KEY----- block)");
        }

        X509Certificate2 leaf;
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(certificatePem);
        }
        catch (CryptographicException e)
        {
            throw new TlsConfigurationException($"{certificatePath}: the certificate cannot be read: {OneLine(e.Message)}", e);
        }
        try
        {
            leaf = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            string reason = IsReadableKey(keyPem)
                ? $"the private key in {keyPath} does not match the certificate in {certificatePath}"
                : $"the private key in {keyPath} cannot be read (only unencrypted RSA and EC keys are supported)";
            throw new TlsConfigurationException(reason, e);
        }
        // The file's first certificate is the leaf; the others are its chain.
        chain.RemoveAt(0);
        return CreateContext(leaf, chain);
    }

    private static SslStreamCertificateContext ParsePfx(CertificateFiles files, byte[] bytes)
    {
        string path = files.CertificatePath;
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12Collection(bytes, files.Password);
        }
        catch (CryptographicException e)
        {
            throw new TlsConfigurationException($"{path} cannot be opened as PKCS#12 (PFX): {OneLine(e.Message)}", e);
        }
        X509Certificate2? leaf = all.FirstOrDefault(c => c.HasPrivateKey)
            ?? throw new TlsConfigurationException($"{path} holds no certificate with a private key");
        var chain = new X509Certificate2Collection();
        foreach (X509Certificate2 certificate in all)
        {
            if (!ReferenceEquals(certificate, leaf))
            {
                chain.Add(certificate);
            }
        }
        return CreateContext(leaf, chain);
    }

    /// <summary>The file's bytes, or a one-line <see cref="TlsConfigurationException"/> saying which file could not be read and why.</summary>
    private static byte[] ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no such file",
                UnauthorizedAccessException => "permission denied",
                _ => OneLine(e.Message),
            };
            throw new TlsConfigurationException($"cannot read the {what} {path}: {reason}", e);
        }
    }

    private static List<string> PemLabels(string text)
    {
        var labels = new List<string>();
        ReadOnlySpan<char> rest = text;
        while (PemEncoding.TryFind(rest, out PemFields fields))
        {
            labels.Add(rest[fields.Label].ToString());
            rest = rest[fields.Location.End..];
        }
        return labels;
    }

    private static bool IsReadableKey(string keyPem)
    {
        foreach (AsymmetricAlgorithm key in new AsymmetricAlgorithm[] { RSA.Create(), ECDsa.Create() })
        {
            using (key)
            {
                try
                {
                    key.ImportFromPem(keyPem);
                    return true;
                }
                catch (Exception e) when (e is CryptographicException or ArgumentException)
                {
                    // Not this algorithm's key: try the next.
                }
            }
        }
        return false;
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    private static string[] NamesOf(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames());
            }
        }
        if (names.Count == 0 && certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false) is { Length: > 0 } cn)
        {
            names.Add(cn);
        }
        return names.Select(n => n.ToLowerInvariant()).ToArray();
    }

    private static SslStreamCertificateContext CreateContext(X509Certificate2 leaf, X509Certificate2Collection? chain) =>
        // offline: no OCSP fetch in the background; the chain is what the files hold (and what the system trusts).
        SslStreamCertificateContext.Create(leaf, chain, offline: true);

    /// <summary>Where a reload reads from: a PEM pair (<see cref="KeyPath"/> set) or a PFX file with its password.</summary>
    private sealed record CertificateFiles(string CertificatePath, string? KeyPath, string? Password);

    /// <summary>One loaded certificate: its context, the names read from it (once, not per handshake) and a hash of the files.</summary>
    private sealed class Loaded(SslStreamCertificateContext context, byte[]? hash)
    {
        public SslStreamCertificateContext Context { get; } = context;

        public string[] Names { get; } = NamesOf(context.TargetCertificate);

        public byte[]? Hash { get; } = hash;
    }

    /// <summary>The bytes of the files as read at one moment (<see cref="Key"/> null for a PFX file), and their hash.</summary>
    private sealed record Contents(byte[] Certificate, byte[]? Key, byte[] Hash);
}
