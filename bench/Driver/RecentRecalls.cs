using System.Globalization;
using System.Text.RegularExpressions;

namespace CallNotify.Bench;

/// <summary>
/// How often a delivery's result or ack started from the store's remembered state rather than a read, over the
/// measured window: two scrapes of <c>callnotify_store_recent_recalls_total</c>. The cache's size rests on this rate.
/// </summary>
internal static partial class RecentRecalls
{
    /// <summary>"hits of all (rate)"; null when the service exports none or nothing was recalled.</summary>
    public static string? Between(string? before, string? after)
    {
        var start = Parse(before);
        var end = Parse(after);
        var hits = end.GetValueOrDefault("hit") - start.GetValueOrDefault("hit");
        var misses = end.GetValueOrDefault("miss") - start.GetValueOrDefault("miss");
        var all = hits + misses;
        return all <= 0
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"{hits:N0} of {all:N0} ({hits / all:P1})");
    }

    private static Dictionary<string, double> Parse(string? text)
    {
        var values = new Dictionary<string, double>();
        foreach (Match m in Sample().Matches(text ?? string.Empty))
        {
            var key = m.Groups["result"].Value;
            values[key] = values.GetValueOrDefault(key) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return values;
    }

    [GeneratedRegex(@"^callnotify_store_recent_recalls_total\{[^}]*result=""(?<result>hit|miss)""[^}]*\} (?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
