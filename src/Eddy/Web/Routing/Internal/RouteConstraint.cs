using System.Diagnostics;

namespace Eddy.Web.Routing.Internal;

internal enum ConstraintKind : byte
{
    Int,
    Long,
    Guid,
    Bool,
    Alpha,
    MinLength,
    MaxLength,
    Length,
    Min,
    Max,
    Range,
}

/// <summary>
/// One inline constraint of a route parameter (<c>{id:int}</c>, <c>{x:length(2,5)}</c>): a kind and up to two
/// arguments, checked with a switch rather than a virtual call or a regex. <see cref="Key"/> is the canonical
/// text (lower-case name, arguments as parsed), which identifies equal constraints in the route tree.
/// </summary>
internal readonly struct RouteConstraint
{
    public readonly ConstraintKind Kind;

    /// <summary>First argument: the length or bound; the minimum for length(min,max) and range.</summary>
    public readonly long A;

    /// <summary>Second argument: the maximum for length(min,max) and range.</summary>
    public readonly long B;

    public readonly string Key;

    public RouteConstraint(ConstraintKind kind, long a, long b, string key)
    {
        Kind = kind;
        A = a;
        B = b;
        Key = key;
    }

    public bool Accepts(ReadOnlySpan<char> value)
    {
        long number;
        switch (Kind)
        {
            case ConstraintKind.Int:
                return ValueParsers.TryParseInt(value, out _);
            case ConstraintKind.Long:
                return ValueParsers.TryParseLong(value, out _);
            case ConstraintKind.Guid:
                return ValueParsers.TryParseGuid(value, out _);
            case ConstraintKind.Bool:
                return ValueParsers.TryParseBool(value, out _);
            case ConstraintKind.Alpha:
                return ValueParsers.IsAlpha(value);
            case ConstraintKind.MinLength:
                return value.Length >= A;
            case ConstraintKind.MaxLength:
                return value.Length <= A;
            case ConstraintKind.Length:
                return value.Length >= A && value.Length <= B;
            case ConstraintKind.Min:
                return ValueParsers.TryParseLong(value, out number) && number >= A;
            case ConstraintKind.Max:
                return ValueParsers.TryParseLong(value, out number) && number <= A;
            case ConstraintKind.Range:
                return ValueParsers.TryParseLong(value, out number) && number >= A && number <= B;
            default:
                throw new UnreachableException();
        }
    }

    public static bool AcceptsAll(RouteConstraint[] constraints, ReadOnlySpan<char> value)
    {
        foreach (ref readonly RouteConstraint constraint in constraints.AsSpan())
        {
            if (!constraint.Accepts(value))
            {
                return false;
            }
        }
        return true;
    }

    public override string ToString() => Key;
}
