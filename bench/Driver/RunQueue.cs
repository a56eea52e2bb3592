using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;

namespace CallNotify.Bench;

/// <summary>
/// How long the threads of the service, PostgreSQL (the postmaster and its backends) and the driver waited for a CPU
/// over the measured window: the kernel's scheduler statistics (<c>/proc/&lt;pid&gt;/task/&lt;tid&gt;/schedstat</c>: time on
/// a CPU, time runnable but waiting in a run queue, time slices run), summed over each process's threads. A thread
/// that ends inside the window takes its figures with it.
/// </summary>
internal sealed class RunQueueMeter(int? servicePid, int? postgresPid)
{
    private long _startTicks;
    private Dictionary<(int Pid, int Tid), (string Group, SchedStat Stat)> _start = [];

    public const string Service = "service";
    public const string Postgres = "PostgreSQL";
    public const string Driver = "driver";

    public void Start()
    {
        _start = Sample();
        _startTicks = Stopwatch.GetTimestamp();
    }

    /// <summary>The window's figures per group; null when the kernel keeps no scheduler statistics.</summary>
    public RunQueueUse? Stop()
    {
        var end = Sample();
        var seconds = Stopwatch.GetElapsedTime(_startTicks).TotalSeconds;
        if (end.Count == 0 || seconds <= 0)
        {
            return null;
        }

        var groups = new Dictionary<string, SchedStat>();
        foreach (var (key, (group, stat)) in end)
        {
            var before = _start.TryGetValue(key, out var started) ? started.Stat : default;
            groups[group] = groups.GetValueOrDefault(group) + (stat - before);
        }

        return new RunQueueUse(groups, seconds);
    }

    private Dictionary<(int Pid, int Tid), (string Group, SchedStat Stat)> Sample()
    {
        var sample = new Dictionary<(int, int), (string, SchedStat)>();
        AddThreads(sample, Environment.ProcessId, Driver);
        if (servicePid is { } service)
        {
            AddThreads(sample, service, Service);
        }

        if (postgresPid is { } root)
        {
            // The postmaster and its backends.
            foreach (var (pid, _) in CpuMeter.ProcessTree(root))
            {
                AddThreads(sample, pid, Postgres);
            }
        }

        return sample;
    }

    private static void AddThreads(Dictionary<(int, int), (string, SchedStat)> sample, int pid, string group)
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var task in tasks)
        {
            try
            {
                var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
                sample[(pid, tid)] = (group, new SchedStat(
                    long.Parse(fields[0], CultureInfo.InvariantCulture),
                    long.Parse(fields[1], CultureInfo.InvariantCulture),
                    long.Parse(fields[2], CultureInfo.InvariantCulture)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The thread ended, or this kernel keeps no scheduler statistics.
            }
        }
    }

    /// <summary>
    /// Two threads of the driver waking each other through a pipe, <paramref name="roundTrips"/> times, on the idle
    /// machine: the mean round trip, two wake-ups. It is what every hand-over between threads costs on this machine
    /// before any work is done (a few microseconds where both threads may share a CPU, tens where waking the other CPU
    /// goes through a hypervisor). Null where pipes cannot be made.
    /// </summary>
    public static double? WakeUpRoundTripMicroseconds(int roundTrips = 5_000)
    {
        try
        {
            using var ping = new AnonymousPipeServerStream(PipeDirection.Out);
            using var pingIn = new AnonymousPipeClientStream(PipeDirection.In, ping.ClientSafePipeHandle);
            using var pong = new AnonymousPipeServerStream(PipeDirection.Out);
            using var pongIn = new AnonymousPipeClientStream(PipeDirection.In, pong.ClientSafePipeHandle);
            var echo = new Thread(() =>
            {
                var one = new byte[1];
                for (var i = 0; i < roundTrips; i++)
                {
                    if (pingIn.Read(one, 0, 1) != 1)
                    {
                        return;
                    }

                    pong.Write(one, 0, 1);
                }
            }) { IsBackground = true, Name = "wake-up probe" };
            echo.Start();
            var buffer = new byte[1];
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < roundTrips; i++)
            {
                ping.Write(buffer, 0, 1);
                if (pongIn.Read(buffer, 0, 1) != 1)
                {
                    return null;
                }
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            echo.Join();
            return elapsed.TotalMicroseconds / roundTrips;
        }
        catch (Exception ex) when (ex is IOException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>One thread's (or a sum of threads') scheduler figures: nanoseconds on a CPU, nanoseconds waiting for one, slices run.</summary>
internal readonly record struct SchedStat(long RunNs, long WaitNs, long Slices)
{
    public static SchedStat operator +(SchedStat a, SchedStat b) => new(a.RunNs + b.RunNs, a.WaitNs + b.WaitNs, a.Slices + b.Slices);

    public static SchedStat operator -(SchedStat a, SchedStat b) => new(a.RunNs - b.RunNs, a.WaitNs - b.WaitNs, a.Slices - b.Slices);
}

/// <summary>The measured window's scheduler figures per group (service, PostgreSQL, driver).</summary>
internal sealed record RunQueueUse(IReadOnlyDictionary<string, SchedStat> Groups, double Seconds)
{
    private static readonly string[] Order = [RunQueueMeter.Service, RunQueueMeter.Postgres, RunQueueMeter.Driver];

    /// <summary>Threads runnable but waiting for a CPU, on average over the window, in all.</summary>
    public double WaitingThreads => Groups.Values.Sum(g => g.WaitNs) / 1e9 / Seconds;

    /// <summary>
    /// "threads waiting for a CPU, on average: service 2.00, PostgreSQL 0.55, driver 1.97; mean wait per time slice
    /// 274 / 215 / 66 µs; time slices per webhook 2.3 / 0.8 / 9.4".
    /// </summary>
    public string Describe(long answers)
    {
        var present = Order.Where(Groups.ContainsKey).ToArray();
        var waiting = string.Join(", ", present.Select(g => Inv($"{g} {Groups[g].WaitNs / 1e9 / Seconds:0.00}")));
        var perSlice = string.Join(" / ", present.Select(g => Inv($"{Groups[g].WaitNs / 1e3 / Math.Max(1, Groups[g].Slices):0}")));
        var slices = answers > 0
            ? "; time slices per webhook " + string.Join(" / ", present.Select(g => Inv($"{(double)Groups[g].Slices / answers:0.0}")))
            : string.Empty;
        return $"threads waiting for a CPU, on average: {waiting} ({Inv($"{WaitingThreads:0.00}")} in all); mean wait per time slice {perSlice} µs{slices}";
    }

    public override string ToString() => Describe(0);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
