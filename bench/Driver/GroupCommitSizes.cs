using System.Globalization;

namespace CallNotify.Bench;

/// <summary>
/// How many writes the service's group commit put in each PostgreSQL transaction over the measured window: the
/// difference of two scrapes of its <c>callnotify_store_group_commit_size</c> histogram at <c>/metrics</c>. The design
/// depends on this quantity, so every run prints it (issue #14).
/// </summary>
internal sealed record GroupCommitSizes(double? Median, double? P90, double Mean, long Transactions)
{
    private const string Bucket = "callnotify_store_group_commit_size_bucket";
    private const string Sum = "callnotify_store_group_commit_size_sum";

    /// <summary>The service's <c>/metrics</c> text; null when it cannot be read.</summary>
    public static async Task<string?> FetchAsync(HttpClient http, Uri baseUrl, CancellationToken cancellationToken)
    {
        try
        {
            return await http.GetStringAsync(new Uri(baseUrl, "/metrics"), cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Cumulative bucket counts by upper bound (+Inf last), and the sum of sizes; null when not exported.</summary>
    public static (SortedDictionary<double, long> Buckets, double Sum)? Parse(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var buckets = new SortedDictionary<double, long>();
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(Bucket, StringComparison.Ordinal))
            {
                var le = line.IndexOf("le=\"", StringComparison.Ordinal) + 4;
                var bound = line[le..line.IndexOf('"', le)];
                var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                var key = bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, CultureInfo.InvariantCulture);
                buckets[key] = buckets.GetValueOrDefault(key) + (long)value;
            }
            else if (line.StartsWith(Sum, StringComparison.Ordinal))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return buckets.Count == 0 ? null : (buckets, sum);
    }

    /// <summary>The window's distribution: bucket upper bounds for the median and p90 (a size is at most that).</summary>
    public static GroupCommitSizes? Between(
        (SortedDictionary<double, long> Buckets, double Sum)? before, (SortedDictionary<double, long> Buckets, double Sum)? after)
    {
        if (after is not { } end)
        {
            return null;
        }

        var start = before ?? (new SortedDictionary<double, long>(), 0);
        var delta = end.Buckets.ToDictionary(b => b.Key, b => b.Value - start.Buckets.GetValueOrDefault(b.Key));
        var total = delta.GetValueOrDefault(double.PositiveInfinity);
        if (total <= 0)
        {
            return new GroupCommitSizes(null, null, 0, 0);
        }

        double? Quantile(double q) => delta.OrderBy(b => b.Key).First(b => b.Value >= q * total).Key;
        return new GroupCommitSizes(Quantile(0.5), Quantile(0.9), (end.Sum - start.Sum) / total, total);
    }

    public override string ToString() =>
        Transactions == 0
            ? "no group commit in the window"
            : string.Create(CultureInfo.InvariantCulture, $"median ≤ {Median:0}, p90 ≤ {P90:0}, mean {Mean:0.0} writes per transaction over {Transactions:N0} transactions");
}
