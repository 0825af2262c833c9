using System.Globalization;
using System.Text;

namespace Eddy.Web.Routing.Internal;

internal enum SegmentKind : byte
{
    Literal,
    Parameter,
    CatchAll,
}

/// <summary>One segment of a parsed template: literal text, or one parameter with its constraints.</summary>
internal sealed class TemplateSegment
{
    public required SegmentKind Kind { get; init; }

    /// <summary>The literal text (Literal) or the parameter name (Parameter, CatchAll).</summary>
    public required string Text { get; init; }

    public bool IsOptional { get; init; }

    /// <summary>Sorted by <see cref="RouteConstraint.Key"/>, so <c>{x:int:min(1)}</c> and <c>{x:min(1):int}</c> are one edge of the tree.</summary>
    public RouteConstraint[] Constraints { get; init; } = [];

    /// <summary>The constraints' keys joined with ':'; empty for an unconstrained parameter.</summary>
    public string ConstraintKey { get; init; } = "";
}

/// <summary>
/// A parsed route template. Grammar (one parameter per segment; no complex segments such as <c>{name}.{ext}</c>):
/// <code>
/// template   = [ "/" ] [ segment *( "/" segment ) ] [ "/" ]
/// segment    = literal / "{" [ "*" / "**" ] name *( ":" constraint ) [ "?" ] "}"
/// constraint = int / long / guid / bool / alpha / minlength(n) / maxlength(n) / length(n) / length(min,max)
///            / min(n) / max(n) / range(min,max)
/// </code>
/// Parsing throws <see cref="ArgumentException"/> naming the template and the problem.
/// </summary>
internal sealed class RouteTemplate
{
    /// <summary>Inline capacity of <see cref="RouteValues"/>: a template may have at most this many parameters.</summary>
    public const int MaxParameters = RouteValues.Capacity;

    private const string KnownConstraints =
        "int, long, guid, bool, alpha, minlength(n), maxlength(n), length(n), length(min,max), min(n), max(n), range(min,max)";

    private RouteTemplate(string text, TemplateSegment[] segments, string[] parameterNames, string shapeKey)
    {
        Text = text;
        Segments = segments;
        ParameterNames = parameterNames;
        ShapeKey = shapeKey;
    }

    /// <summary>The template as given.</summary>
    public string Text { get; }

    public TemplateSegment[] Segments { get; }

    /// <summary>In template order, which is also the order values are captured in.</summary>
    public string[] ParameterNames { get; }

    /// <summary>
    /// The set of paths the template matches, as text: literals lowered, parameter names dropped, constraints
    /// canonical (<c>users/{int}/posts/{?}</c>). Two routes for the same method with the same shape are a conflict.
    /// </summary>
    public string ShapeKey { get; }

    public static RouteTemplate Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        CheckBraces(template);

        // One leading and one trailing '/' are optional: "/users/", "users" and "/users" are the same route.
        int start = template.StartsWith('/') ? 1 : 0;
        int end = template.Length;
        if (end - start > 1 && template[end - 1] == '/')
        {
            end--;
        }

        var segments = new List<TemplateSegment>();
        var names = new List<string>();
        if (end > start)
        {
            int position = start;
            while (true)
            {
                int slash = template.AsSpan(position, end - position).IndexOf('/');
                int length = slash < 0 ? end - position : slash;
                TemplateSegment segment = ParseSegment(template, position, length);
                segments.Add(segment);
                if (segment.Kind != SegmentKind.Literal)
                {
                    foreach (string existing in names)
                    {
                        if (string.Equals(existing, segment.Text, StringComparison.OrdinalIgnoreCase))
                        {
                            throw Invalid(template, $"the parameter name '{segment.Text}' is used more than once (names are case-insensitive).");
                        }
                    }
                    names.Add(segment.Text);
                }
                if (slash < 0)
                {
                    break;
                }
                position += length + 1;
            }
        }

        for (int i = 0; i < segments.Count - 1; i++)
        {
            TemplateSegment segment = segments[i];
            if (segment.Kind == SegmentKind.CatchAll)
            {
                throw Invalid(template, $"the catch-all parameter '{segment.Text}' must be the last segment.");
            }
            if (segment.IsOptional)
            {
                throw Invalid(template, $"the optional parameter '{segment.Text}' must be the last segment.");
            }
        }
        if (names.Count > MaxParameters)
        {
            throw Invalid(template, $"it has {names.Count} parameters; at most {MaxParameters} are supported.");
        }

        return new RouteTemplate(template, [.. segments], [.. names], ShapeOf(segments));
    }

    /// <summary>Braces must pair up, one level deep, and a parameter cannot contain '/'.</summary>
    private static void CheckBraces(string template)
    {
        int open = -1;
        for (int i = 0; i < template.Length; i++)
        {
            switch (template[i])
            {
                case '{' when open >= 0:
                    throw Invalid(template, $"unbalanced braces: '{{' at index {i} is inside the parameter opened at index {open}.");
                case '{':
                    open = i;
                    break;
                case '}' when open < 0:
                    throw Invalid(template, $"unbalanced braces: '}}' at index {i} has no matching '{{'.");
                case '}':
                    open = -1;
                    break;
                case '/' when open >= 0:
                    throw Invalid(template, $"unbalanced braces: the parameter opened at index {open} is not closed before the '/' at index {i}.");
            }
        }
        if (open >= 0)
        {
            throw Invalid(template, $"unbalanced braces: '{{' at index {open} is never closed.");
        }
    }

    private static TemplateSegment ParseSegment(string template, int position, int length)
    {
        ReadOnlySpan<char> text = template.AsSpan(position, length);
        if (text.IsEmpty)
        {
            throw Invalid(template, $"empty segment at index {position} ('//').");
        }

        int brace = text.IndexOfAny('{', '}');
        if (brace < 0)
        {
            if (text.Contains('?'))
            {
                throw Invalid(template, $"the literal segment '{text}' contains '?'; a query string is not part of a route.");
            }
            return new TemplateSegment { Kind = SegmentKind.Literal, Text = text.ToString() };
        }
        // CheckBraces guarantees pairs; a segment is a parameter only if it is exactly one "{...}".
        if (brace != 0 || text.IndexOf('}') != text.Length - 1)
        {
            throw Invalid(template, $"the segment '{text}' mixes literal text and a parameter, or has several parameters; a segment is either literal text or one parameter.");
        }

        string whole = text.ToString();
        ReadOnlySpan<char> inner = text[1..^1];
        SegmentKind kind = SegmentKind.Parameter;
        if (inner.StartsWith("**"))
        {
            kind = SegmentKind.CatchAll;
            inner = inner[2..];
        }
        else if (inner.StartsWith('*'))
        {
            kind = SegmentKind.CatchAll;
            inner = inner[1..];
        }

        bool optional = false;
        if (inner.EndsWith('?'))
        {
            if (kind == SegmentKind.CatchAll)
            {
                throw Invalid(template, $"the catch-all parameter '{whole}' cannot be optional: it already matches an empty rest.");
            }
            optional = true;
            inner = inner[..^1];
        }
        if (inner.Contains('='))
        {
            throw Invalid(template, $"the parameter '{whole}' has a default value; defaults are not supported (use an optional parameter '{{name?}}').");
        }

        int colon = inner.IndexOf(':');
        ReadOnlySpan<char> name = colon < 0 ? inner : inner[..colon];
        if (name.IsEmpty)
        {
            throw Invalid(template, $"the parameter '{whole}' at index {position} has an empty name.");
        }
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-'))
            {
                throw Invalid(template, $"the parameter name '{name}' in '{whole}' may contain only ASCII letters, digits, '_' and '-'.");
            }
        }

        string parameterName = name.ToString();
        var constraints = new List<RouteConstraint>();
        if (colon >= 0)
        {
            foreach (Range range in inner[(colon + 1)..].Split(':'))
            {
                constraints.Add(ParseConstraint(template, parameterName, inner[(colon + 1)..][range]));
            }
            constraints.Sort(static (x, y) => string.CompareOrdinal(x.Key, y.Key));
        }

        return new TemplateSegment
        {
            Kind = kind,
            Text = parameterName,
            IsOptional = optional,
            Constraints = [.. constraints],
            ConstraintKey = string.Join(':', constraints.Select(c => c.Key)),
        };
    }

    private static RouteConstraint ParseConstraint(string template, string parameter, ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            throw Invalid(template, $"the parameter '{parameter}' has an empty constraint (a stray ':').");
        }
        ReadOnlySpan<char> name = text;
        ReadOnlySpan<char> arguments = default;
        bool hasArguments = false;
        int paren = text.IndexOf('(');
        if (paren >= 0)
        {
            if (!text.EndsWith(')'))
            {
                throw Invalid(template, $"the constraint '{text}' on parameter '{parameter}' has an unclosed '('.");
            }
            name = text[..paren];
            arguments = text[(paren + 1)..^1];
            hasArguments = true;
        }

        string lowered = AsciiCase.ToLower(name.ToString());
        switch (lowered)
        {
            case "int":
            case "long":
            case "guid":
            case "bool":
            case "alpha":
                if (hasArguments)
                {
                    throw Invalid(template, $"the constraint '{text}' on parameter '{parameter}' takes no arguments; write '{lowered}'.");
                }
                ConstraintKind simple = lowered switch
                {
                    "int" => ConstraintKind.Int,
                    "long" => ConstraintKind.Long,
                    "guid" => ConstraintKind.Guid,
                    "bool" => ConstraintKind.Bool,
                    _ => ConstraintKind.Alpha,
                };
                return new RouteConstraint(simple, 0, 0, lowered);

            case "minlength":
            case "maxlength":
            {
                long n = OneArgument(template, parameter, text, lowered, arguments, hasArguments, nonNegative: true);
                return new RouteConstraint(lowered == "minlength" ? ConstraintKind.MinLength : ConstraintKind.MaxLength, n, 0, Key(lowered, n));
            }

            case "min":
            case "max":
            {
                long n = OneArgument(template, parameter, text, lowered, arguments, hasArguments, nonNegative: false);
                return new RouteConstraint(lowered == "min" ? ConstraintKind.Min : ConstraintKind.Max, n, 0, Key(lowered, n));
            }

            case "length":
            {
                if (hasArguments && !arguments.Contains(','))
                {
                    long n = OneArgument(template, parameter, text, lowered, arguments, hasArguments, nonNegative: true);
                    return new RouteConstraint(ConstraintKind.Length, n, n, Key(lowered, n));
                }
                (long min, long max) = TwoArguments(template, parameter, text, lowered, arguments, hasArguments, nonNegative: true);
                return new RouteConstraint(ConstraintKind.Length, min, max, Key(lowered, min, max));
            }

            case "range":
            {
                (long min, long max) = TwoArguments(template, parameter, text, lowered, arguments, hasArguments, nonNegative: false);
                return new RouteConstraint(ConstraintKind.Range, min, max, Key(lowered, min, max));
            }

            default:
                throw Invalid(template, $"unknown constraint '{name}' on parameter '{parameter}' (known: {KnownConstraints}; regex is not supported).");
        }
    }

    private static long OneArgument(string template, string parameter, ReadOnlySpan<char> text, string name,
        ReadOnlySpan<char> arguments, bool hasArguments, bool nonNegative)
    {
        if (!hasArguments || !TryParseArgument(arguments, nonNegative, out long n))
        {
            string what = nonNegative ? "one non-negative integer" : "one integer";
            throw Invalid(template, $"the constraint '{text}' on parameter '{parameter}' needs {what} argument, as in {name}(3).");
        }
        return n;
    }

    private static (long Min, long Max) TwoArguments(string template, string parameter, ReadOnlySpan<char> text, string name,
        ReadOnlySpan<char> arguments, bool hasArguments, bool nonNegative)
    {
        int comma = arguments.IndexOf(',');
        if (!hasArguments || comma < 0
            || !TryParseArgument(arguments[..comma], nonNegative, out long min)
            || !TryParseArgument(arguments[(comma + 1)..], nonNegative, out long max))
        {
            string what = nonNegative ? "two non-negative integer" : "two integer";
            throw Invalid(template, $"the constraint '{text}' on parameter '{parameter}' needs {what} arguments, as in {name}(1,9).");
        }
        if (min > max)
        {
            throw Invalid(template, $"the constraint '{text}' on parameter '{parameter}' has its minimum {min} above its maximum {max}.");
        }
        return (min, max);
    }

    private static bool TryParseArgument(ReadOnlySpan<char> text, bool nonNegative, out long value) =>
        ValueParsers.TryParseLong(text, out value) && (!nonNegative || value >= 0);

    private static string Key(string name, long a) => string.Create(CultureInfo.InvariantCulture, $"{name}({a})");

    private static string Key(string name, long a, long b) => string.Create(CultureInfo.InvariantCulture, $"{name}({a},{b})");

    private static string ShapeOf(List<TemplateSegment> segments)
    {
        var shape = new StringBuilder("/");
        for (int i = 0; i < segments.Count; i++)
        {
            if (i > 0)
            {
                shape.Append('/');
            }
            TemplateSegment segment = segments[i];
            switch (segment.Kind)
            {
                case SegmentKind.Literal:
                    shape.Append(AsciiCase.ToLower(segment.Text));
                    break;
                case SegmentKind.Parameter:
                    shape.Append('{').Append(segment.ConstraintKey).Append(segment.IsOptional ? "?}" : "}");
                    break;
                default:
                    shape.Append("{*").Append(segment.ConstraintKey).Append('}');
                    break;
            }
        }
        return shape.ToString();
    }

    private static ArgumentException Invalid(string template, string problem) =>
        new($"Invalid route template '{template}': {problem}", nameof(template));
}
