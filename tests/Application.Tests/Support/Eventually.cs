using System.Diagnostics;

namespace CallNotify.Application.Tests.Support;

/// <summary>Bounded waits for what happens in the background (deliveries run on the thread pool).</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>Polls <paramref name="condition"/> until it holds (true) or <paramref name="timeout"/> of real time passes (false).</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                return condition();
            }

            await Task.Delay(PollInterval);
        }

        return true;
    }

    public static Task<bool> TrueAsync(Func<bool> condition) => TrueAsync(condition, DefaultTimeout);

    /// <summary>Reads until <paramref name="done"/> holds or the default timeout passes; returns the last value read.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value) || clock.Elapsed > DefaultTimeout)
            {
                return value;
            }

            await Task.Delay(PollInterval);
        }
    }
}
