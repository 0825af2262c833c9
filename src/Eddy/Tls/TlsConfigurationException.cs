namespace Eddy.Tls;

/// <summary>TLS cannot be set up as configured: a certificate or key that cannot be read, or that do not match.
/// The message is one line that names the file and the reason.</summary>
public sealed class TlsConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
