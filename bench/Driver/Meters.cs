using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace CallNotify.Bench;

/// <summary>
/// Samples a process's resident memory (<c>VmRSS</c> in <c>/proc/&lt;pid&gt;/status</c>) every 100 ms and keeps the
/// highest; <see cref="HighWaterMarkKb"/> reads the kernel's own peak (<c>VmHWM</c>), which no sampling can miss.
/// </summary>
internal sealed class MemorySampler : IAsyncDisposable
{
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _peakKb;
    private long _peakThreads;

    public MemorySampler(int pid)
    {
        _pid = pid;
        _sampling = Task.Run(SampleAsync);
    }

    public long PeakKb => Interlocked.Read(ref _peakKb);

    public long PeakThreads => Interlocked.Read(ref _peakThreads);

    public long? HighWaterMarkKb => ReadStatusKb(_pid, "VmHWM:");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }

    /// <summary>A number field of <c>/proc/&lt;pid&gt;/status</c> (kB for sizes), or null when the process (or /proc) is not there.</summary>
    public static long? ReadStatusKb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var value = line[field.Length..].Trim();
                    var space = value.IndexOf(' ', StringComparison.Ordinal);
                    return long.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // The process is gone, or this is not Linux.
        }

        return null;
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        do
        {
            if (ReadStatusKb(_pid, "VmRSS:") is { } rss && rss > Interlocked.Read(ref _peakKb))
            {
                Interlocked.Exchange(ref _peakKb, rss);
            }

            if (ReadStatusKb(_pid, "Threads:") is { } threads && threads > Interlocked.Read(ref _peakThreads))
            {
                Interlocked.Exchange(ref _peakThreads, threads);
            }
        }
        while (await WaitAsync(timer));
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

/// <summary>
/// CPU use over an interval: the driver's own, the service's, PostgreSQL's (the postmaster and its backends) and the
/// whole machine's (from <c>/proc/stat</c>).
/// </summary>
internal sealed class CpuMeter(Func<TimeSpan>? service, int? postgresPid)
{
    /// <summary>Linux reports process CPU in USER_HZ ticks, 100 a second on every mainstream kernel.</summary>
    private const double UserHz = 100;

    private long _startTicks;
    private TimeSpan _driverStart;
    private TimeSpan _serviceStart;
    private long? _postgresStart;
    private (long Busy, long Total)? _machineStart;

    public void Start()
    {
        _startTicks = Stopwatch.GetTimestamp();
        _driverStart = DriverCpu();
        _serviceStart = service?.Invoke() ?? TimeSpan.Zero;
        _postgresStart = postgresPid is { } pid ? ProcessTreeJiffies(pid) : null;
        _machineStart = MachineJiffies();
    }

    /// <summary>Cores' worth of CPU used since <see cref="Start"/>; null for what could not be measured.</summary>
    public CpuUse Stop()
    {
        var seconds = Stopwatch.GetElapsedTime(_startTicks).TotalSeconds;
        var driver = (DriverCpu() - _driverStart).TotalSeconds / seconds;
        double? serviceCores = service is null ? null : (service() - _serviceStart).TotalSeconds / seconds;
        double? postgres = null;
        if (_postgresStart is { } before && postgresPid is { } pid && ProcessTreeJiffies(pid) is { } after)
        {
            postgres = (after - before) / UserHz / seconds;
        }

        double? machine = null;
        if (_machineStart is { } start && MachineJiffies() is { } end && end.Total > start.Total)
        {
            machine = (double)(end.Busy - start.Busy) / (end.Total - start.Total) * Environment.ProcessorCount;
        }

        return new CpuUse(driver, serviceCores, postgres, machine, seconds);
    }

    private static TimeSpan DriverCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>
    /// User + system ticks of a process and its children (PostgreSQL's backends are the postmaster's children). A
    /// backend that exits during the interval takes its ticks with it; the service's pooled connections live on.
    /// </summary>
    private static long? ProcessTreeJiffies(int root)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return null;
        }

        long total = 0;
        var found = false;
        foreach (var (pid, fields) in ProcessTree(root))
        {
            found |= pid == root;
            total += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        return found ? total : null;
    }

    /// <summary>
    /// The process <paramref name="root"/> and its direct children, each with the fields of its <c>/proc/&lt;pid&gt;/stat</c>
    /// after the command name ("state ppid … utime stime …"; the name may hold spaces).
    /// </summary>
    internal static IEnumerable<(int Pid, string[] Fields)> ProcessTree(int root)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(directory);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var pid = int.Parse(name, CultureInfo.InvariantCulture);
            if (pid == root || int.Parse(fields[1], CultureInfo.InvariantCulture) == root)
            {
                yield return (pid, fields);
            }
        }
    }

    /// <summary>Busy and total jiffies of all CPUs (the first line of <c>/proc/stat</c>; idle and iowait are not busy).</summary>
    private static (long Busy, long Total)? MachineJiffies()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return null;
        }

        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var total = fields.Sum();
            var idle = fields[3] + fields[4];
            return (total - idle, total);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}

/// <summary>Cores' worth of CPU (1.0 is one core busy all the time) over <see cref="Seconds"/>.</summary>
internal readonly record struct CpuUse(double Driver, double? Service, double? Postgres, double? Machine, double Seconds);
