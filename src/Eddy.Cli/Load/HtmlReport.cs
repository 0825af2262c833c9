using System.Globalization;
using System.Net;
using System.Text;

namespace Eddy.Cli.Load;

/// <summary>A named latency curve for <see cref="HtmlReport"/>.</summary>
internal sealed record LatencyCurve(string Name, List<DistributionPoint> Points, bool IsDashed = false);

/// <summary>
/// <c>--html FILE</c>: one self-contained page (inline SVG and CSS, no script, nothing fetched) with the
/// latency percentile curve and the run's figures. The curve is drawn as HdrHistogram's plotter draws it:
/// latency against percentile on a log scale of 1/(1 − p), so 90%, 99%, 99.9%, … are equally spaced and the
/// tail, where the stalls are, gets as much room as the median.
/// </summary>
internal static class HtmlReport
{
    private const double Width = 860;
    private const double Height = 420;
    private const double Left = 80;   // room for the latency labels
    private const double Right = 45;  // room for the last percentile label
    private const double Top = 20;
    private const double Bottom = 50; // room for the percentile labels
    private static readonly string[] Colors = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df"];

    public static void Write(Stream stream, string title, IReadOnlyList<(string Label, string Value)> figures, IReadOnlyList<LatencyCurve> curves)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
            .Append(Encode(title)).Append("</title>\n<style>\n")
            .Append("body { font-family: system-ui, sans-serif; margin: 2em; color: #1f2328; }\n")
            .Append("h1 { font-size: 1.3em; } table { border-collapse: collapse; margin-top: 1.5em; }\n")
            .Append("td, th { padding: 0.25em 1em 0.25em 0; text-align: left; vertical-align: top; } th { font-weight: 600; }\n")
            .Append("svg text { font-size: 12px; fill: #57606a; }\n")
            .Append(".legend { margin: 0.5em 0 0 0; } .legend span { margin-right: 1.5em; }\n")
            .Append("</style>\n</head>\n<body>\n<h1>").Append(Encode(title)).Append("</h1>\n");
        AppendPlot(html, curves);
        html.Append("<table>\n");
        foreach (var (label, value) in figures)
        {
            html.Append("<tr><th>").Append(Encode(label)).Append("</th><td>").Append(Encode(value)).Append("</td></tr>\n");
        }
        html.Append("</table>\n</body>\n</html>\n");
        byte[] bytes = Encoding.UTF8.GetBytes(html.ToString());
        stream.Write(bytes);
    }

    /// <summary>x = log10(1 / (1 − p)): 0 at 0%, 1 at 90%, 2 at 99%, 3 at 99.9%, …</summary>
    private static double PercentileToX(double percentile) => -Math.Log10(Math.Max(1 - percentile / 100, 1e-9));

    private static void AppendPlot(StringBuilder html, IReadOnlyList<LatencyCurve> curves)
    {
        var drawn = curves.Where(c => c.Points.Count > 0).ToList();
        if (drawn.Count == 0)
        {
            html.Append("<p>No latency was measured.</p>\n");
            return;
        }
        // The 100% point is at infinity on this axis: the plot ends one decade past the last finite step,
        // as HdrHistogram's plotter does, and the max is drawn there.
        double lastFinite = drawn.SelectMany(c => c.Points).Where(p => p.Percentile < 100).Select(p => PercentileToX(p.Percentile)).DefaultIfEmpty(0).Max();
        int decades = Math.Max(3, (int)Math.Ceiling(lastFinite + 1e-9));
        double maxUs = drawn.SelectMany(c => c.Points).Max(p => p.ValueUs);
        (double yTop, double yStep, double unit, string unitName) = NiceAxis(maxUs);
        double plotWidth = Width - Left - Right;
        double plotHeight = Height - Top - Bottom;
        double X(double percentile) => Left + Math.Min(PercentileToX(percentile), decades) / decades * plotWidth;
        double Y(double us) => Top + plotHeight - us / yTop * plotHeight;

        var f = CultureInfo.InvariantCulture;
        html.Append(f, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"latency by percentile\">\n");
        for (int d = 0; d <= decades; d++)
        {
            double x = Left + (double)d / decades * plotWidth;
            string label = d == 0 ? "0%" : (100 - 100 / Math.Pow(10, d)).ToString("0.#########", f) + "%";
            html.Append(f, $"<line stroke=\"#d0d7de\" x1=\"{x:0.#}\" y1=\"{Top}\" x2=\"{x:0.#}\" y2=\"{Top + plotHeight}\"/>\n");
            html.Append(f, $"<text x=\"{x:0.#}\" y=\"{Top + plotHeight + 18}\" text-anchor=\"middle\">{label}</text>\n");
        }
        for (double v = 0; v <= yTop + yStep / 2; v += yStep)
        {
            double y = Y(v);
            html.Append(f, $"<line stroke=\"#d0d7de\" x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Left + plotWidth}\" y2=\"{y:0.#}\"/>\n");
            html.Append(f, $"<text x=\"{Left - 8}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{(v / unit).ToString("0.###", f)} {unitName}</text>\n");
        }
        html.Append(f, $"<text x=\"{Left + plotWidth / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\">percentile</text>\n");
        html.Append(f, $"<text transform=\"translate(16 {Top + plotHeight / 2}) rotate(-90)\" text-anchor=\"middle\">latency</text>\n");
        for (int i = 0; i < drawn.Count; i++)
        {
            LatencyCurve curve = drawn[i];
            var points = new StringBuilder();
            foreach (DistributionPoint p in curve.Points)
            {
                points.Append(f, $"{X(p.Percentile):0.##},{Y(p.ValueUs):0.##} ");
            }
            string dash = curve.IsDashed ? " stroke-dasharray=\"6 4\"" : "";
            html.Append(f, $"<polyline fill=\"none\" stroke=\"{Colors[i % Colors.Length]}\" stroke-width=\"2\"{dash} points=\"{points.ToString().TrimEnd()}\"><title>{Encode(curve.Name)}</title></polyline>\n");
        }
        html.Append("</svg>\n<p class=\"legend\">");
        for (int i = 0; i < drawn.Count; i++)
        {
            html.Append(f, $"<span style=\"color: {Colors[i % Colors.Length]}\">{(drawn[i].IsDashed ? "- - -" : "———")} {Encode(drawn[i].Name)}</span>");
        }
        html.Append("</p>\n");
    }

    /// <summary>A top for the latency axis (1, 2 or 5 × 10^k, in µs) with 4–10 steps, and the unit to label it in.</summary>
    private static (double Top, double Step, double Unit, string UnitName) NiceAxis(double maxUs)
    {
        double max = Math.Max(maxUs, 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(max)));
        double step = magnitude;
        foreach (double m in new[] { 0.1, 0.2, 0.5, 1, 2 })
        {
            if (max / (magnitude * m) <= 10)
            {
                step = magnitude * m;
                break;
            }
        }
        double top = Math.Ceiling(max / step) * step;
        (double unit, string name) = top switch
        {
            >= 2_000_000 => (1_000_000.0, "s"),
            >= 2_000 => (1_000.0, "ms"),
            _ => (1.0, "µs"),
        };
        return (top, step, unit, name);
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
