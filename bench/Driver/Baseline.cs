using System.Globalization;

namespace CallNotify.Bench;

/// <summary>
/// One scenario's figures read back from an earlier report (<c>--baseline</c>): the run of the current main that issue
/// #14's relative targets are measured against (webhook and end-to-end p99 at most half, PostgreSQL CPU per webhook
/// at most 40 %). Reports of any version of this benchmark are read by their column headers.
/// </summary>
internal sealed record BaselineScenario(string Name, double RatioToBare, double WebhookP99Ms, double? EndToEndP99Ms, double? PostgresCpuMsPerRequest)
{
    public static IReadOnlyDictionary<string, BaselineScenario> Read(string path)
    {
        var rows = File.ReadLines(path).Where(l => l.StartsWith('|')).Select(Cells).ToList();
        var header = rows.FirstOrDefault(r => r.Count > 0 && r[0] == "scenario")
            ?? throw new ArgumentException($"{path} has no results table.");
        int Column(string name) => header.FindIndex(h => h == name);
        var ratio = Column("× bare");
        var webhook = Column("webhook p50 / p99 (ms)");
        var endToEnd = Column("end-to-end p50 / p99 (ms)");
        var pgPerRequest = Column("PostgreSQL CPU per request (ms)");
        var throughput = Column("throughput (req/s)");
        var cores = Column("CPU cores: service / PostgreSQL / driver / machine");
        if (ratio < 0 || webhook < 0)
        {
            throw new ArgumentException($"{path}: its table has no '× bare' or webhook latency column.");
        }

        var found = new Dictionary<string, BaselineScenario>(StringComparer.Ordinal);
        foreach (var row in rows.Where(r => r.Count == header.Count && r[0] != "scenario" && !r[0].StartsWith("---", StringComparison.Ordinal)))
        {
            if (Number(row[ratio].TrimEnd('×')) is not { } r)
            {
                continue;
            }

            // Older reports give PostgreSQL's CPU only in cores: per request is cores ÷ throughput.
            var pg = pgPerRequest >= 0 ? Number(row[pgPerRequest]) : null;
            if (pg is null && cores >= 0 && throughput >= 0 && Number(row[throughput]) is > 0 and var t
                && row[cores].Split('/') is { Length: 4 } parts && Number(parts[1]) is { } pgCores)
            {
                pg = pgCores / t * 1000;
            }

            found[row[0]] = new BaselineScenario(row[0], r, Second(row[webhook]) ?? double.NaN, endToEnd >= 0 ? Second(row[endToEnd]) : null, pg);
        }

        return found;
    }

    private static List<string> Cells(string line) => [.. line.Trim().Trim('|').Split('|').Select(c => c.Trim())];

    /// <summary>The second of "p50 / p99".</summary>
    private static double? Second(string cell) => cell.Split('/') is { Length: 2 } parts ? Number(parts[1]) : null;

    private static double? Number(string text) =>
        double.TryParse(text.Trim().Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
}
