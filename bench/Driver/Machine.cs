using System.Globalization;
using System.Runtime.InteropServices;

namespace CallNotify.Bench;

/// <summary>The machine the figures came from, as the results file names it.</summary>
internal sealed record Machine(string Host, int Cores, string CpuModel, string Memory, string Os, string DotNet, string LoadAverage, double? WakeUpRoundTripUs)
{
    public static Machine Describe() => new(
        Environment.MachineName,
        Environment.ProcessorCount,
        ProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        MemTotal(),
        Kernel() is { } kernel ? $"{OsRelease()}, Linux {kernel}" : OsRelease(),
        RuntimeInformation.FrameworkDescription,
        ReadLoadAverage(),
        RunQueueMeter.WakeUpRoundTripMicroseconds());

    /// <summary><c>/proc/loadavg</c>'s 1, 5 and 15 minute averages: how busy the machine was, other work included.</summary>
    public static string ReadLoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static string? Kernel()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string MemTotal()
    {
        var kb = ProcField("/proc/meminfo", "MemTotal");
        if (kb is null || !long.TryParse(kb.Split(' ')[0], CultureInfo.InvariantCulture, out var value))
        {
            return "unknown";
        }

        return (value / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " GiB";
    }

    private static string OsRelease()
    {
        try
        {
            var line = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            return line is null ? "Linux" : line["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return RuntimeInformation.OSDescription;
        }
    }

    /// <summary>The value of the first "key : value" line of a /proc file.</summary>
    private static string? ProcField(string path, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == key)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not Linux.
        }

        return null;
    }
}
