using System.Globalization;
using System.Text.RegularExpressions;

namespace CallNotify.Bench;

/// <summary>
/// What the .NET runtime did for the service over the measured window, from two scrapes of the <c>System.Runtime</c>
/// meter the service exports at <c>/metrics</c>: bytes allocated and thread-pool work items per webhook, garbage
/// collections by the highest generation collected, and the time the collector paused the process (ADR 0032).
/// </summary>
internal sealed partial record RuntimeCounters(double AllocatedBytes, double WorkItems, double Gen0, double Gen1, double Gen2, double PauseSeconds)
{
    private const string Allocated = "dotnet_gc_heap_total_allocated_bytes_total";
    private const string WorkItemCount = "dotnet_thread_pool_work_item_count_total";
    private const string Pause = "dotnet_gc_pause_time_seconds_total";
    private const string Collections = "dotnet_gc_collections_total";

    /// <summary>The differences between two <c>/metrics</c> texts; null when the service exports no runtime meter.</summary>
    public static RuntimeCounters? Between(string? before, string? after)
    {
        var start = Parse(before);
        var end = Parse(after);
        if (!end.ContainsKey((Allocated, string.Empty)))
        {
            return null;
        }

        double Delta(string metric, string generation = "") =>
            end.GetValueOrDefault((metric, generation)) - start.GetValueOrDefault((metric, generation));

        return new RuntimeCounters(
            Delta(Allocated),
            Delta(WorkItemCount),
            Delta(Collections, "gen0"),
            Delta(Collections, "gen1"),
            Delta(Collections, "gen2"),
            Delta(Pause));
    }

    /// <summary>"29.4 KB allocated and 7.9 thread-pool work items per webhook; GCs gen0/1/2 17/100/0, paused 636 ms (3.18 % of the window), 5.4 ms per GC".</summary>
    public string Describe(long answers, double windowSeconds)
    {
        var perWebhook = answers > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{AllocatedBytes / answers / 1000:0.0} KB allocated and {WorkItems / answers:0.0} thread-pool work items per webhook")
            : "no answers to divide by";
        var collections = Gen0 + Gen1 + Gen2;
        var share = windowSeconds > 0 ? PauseSeconds / windowSeconds : 0;
        var perGc = collections > 0 ? string.Create(CultureInfo.InvariantCulture, $", {PauseSeconds * 1000 / collections:0.0} ms per GC") : string.Empty;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{perWebhook}; GCs gen0/1/2 {Gen0:0}/{Gen1:0}/{Gen2:0}, paused {PauseSeconds * 1000:0} ms ({share:P2} of the window){perGc}");
    }

    /// <summary>The window's totals, for the console.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{AllocatedBytes / 1e6:N0} MB allocated, {WorkItems:N0} thread-pool work items, GCs gen0/1/2 {Gen0:0}/{Gen1:0}/{Gen2:0}, paused {PauseSeconds * 1000:0} ms");

    /// <summary>Each sample's value by (metric, generation), generation empty for the metrics without one.</summary>
    private static Dictionary<(string Metric, string Generation), double> Parse(string? text)
    {
        var values = new Dictionary<(string, string), double>();
        foreach (Match m in Sample().Matches(text ?? string.Empty))
        {
            var generation = Generation().Match(m.Groups["labels"].Value) is { Success: true } g ? g.Groups["gen"].Value : string.Empty;
            var key = (m.Groups["metric"].Value, generation);
            values[key] = values.GetValueOrDefault(key) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return values;
    }

    [GeneratedRegex(@"^(?<metric>dotnet_(?:gc_heap_total_allocated_bytes_total|thread_pool_work_item_count_total|gc_pause_time_seconds_total|gc_collections_total))(?:\{(?<labels>[^}]*)\})? (?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex(@"gc_heap_generation=""(?<gen>\w+)""")]
    private static partial Regex Generation();
}
