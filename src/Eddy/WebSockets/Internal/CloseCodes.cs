namespace Eddy.WebSockets.Internal;

/// <summary>Which close codes may appear in a close frame (RFC 6455 §7.4, and the IANA registry it set up).</summary>
internal static class CloseCodes
{
    /// <summary>
    /// 1000–1003 and 1007–1011 (§7.4.1), 1012–1014 (registered since: service restart, try again later, bad
    /// gateway; Python's websockets accepts them too), and 3000–4999 (libraries, frameworks and applications).
    /// 1004 is reserved, 1005, 1006 and 1015 are for reporting only and "MUST NOT be set as a status code in a
    /// Close control frame"; anything else is unassigned.
    /// </summary>
    public static bool IsValidOnTheWire(int code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1014 => true,
        >= 3000 and <= 4999 => true,
        _ => false,
    };
}
