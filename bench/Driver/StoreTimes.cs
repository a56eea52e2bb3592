using System.Globalization;
using System.Text.RegularExpressions;

namespace CallNotify.Bench;

/// <summary>
/// Where a webhook's store time goes over the measured window, by lane: <c>lookup</c> (the callee lookups), <c>write</c>
/// (the writes an answer waits for: the record) and <c>append</c> (the writes that may wait: delivery events). From
/// two scrapes of the service's <c>callnotify_store_wait_duration_seconds</c> (one per caller, queueing included) and
/// <c>callnotify_store_round_trip_duration_seconds</c> (one per shared round trip). Their ratio is how many callers a
/// round trip served: the quantity the batching design depends on (issue #14).
/// </summary>
internal sealed partial record StoreTimes(IReadOnlyList<StoreTimes.Lane> Lanes, string? Recalls)
{
    private const string Wait = "callnotify_store_wait_duration_seconds";
    private const string RoundTrip = "callnotify_store_round_trip_duration_seconds";

    public sealed record Lane(string Name, double WaitMs, double RoundTripMs, double CallersPerRoundTrip);

    /// <summary>Means over the window between two <c>/metrics</c> texts; null when the service exports none.</summary>
    public static StoreTimes? Between(string? before, string? after)
    {
        if (after is null)
        {
            return null;
        }

        var start = Parse(before);
        var end = Parse(after);
        var lanes = new List<Lane>();
        foreach (var name in new[] { "lookup", "write", "append" })
        {
            double Delta(string metric, string part) =>
                end.GetValueOrDefault((metric, part, name)) - start.GetValueOrDefault((metric, part, name));

            var waits = Delta(Wait, "count");
            var trips = Delta(RoundTrip, "count");
            if (waits > 0 && trips > 0)
            {
                lanes.Add(new Lane(name, Delta(Wait, "sum") / waits * 1000, Delta(RoundTrip, "sum") / trips * 1000, waits / trips));
            }
        }

        return lanes.Count == 0 ? null : new StoreTimes(lanes, RecentRecalls.Between(before, after));
    }

    public override string ToString() => string.Join("; ", Lanes.Select(l => string.Create(
        CultureInfo.InvariantCulture,
        $"{l.Name} waited {l.WaitMs:0.00} ms, its round trip {l.RoundTripMs:0.00} ms for {l.CallersPerRoundTrip:0.0} callers"))
        .Append(Recalls is null ? "no result or ack recalled" : $"results and acks from the remembered state: {Recalls}"));

    private static Dictionary<(string Metric, string Part, string Lane), double> Parse(string? text)
    {
        var values = new Dictionary<(string, string, string), double>();
        foreach (Match m in Sample().Matches(text ?? string.Empty))
        {
            var key = (m.Groups["metric"].Value, m.Groups["part"].Value, m.Groups["lane"].Value);
            values[key] = values.GetValueOrDefault(key) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return values;
    }

    [GeneratedRegex(@"^(?<metric>callnotify_store_(?:wait|round_trip)_duration_seconds)_(?<part>sum|count)\{[^}]*lane=""(?<lane>\w+)""[^}]*\} (?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
