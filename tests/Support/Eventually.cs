using System.Diagnostics;

namespace CallNotify.Tests.Support;

/// <summary>
/// Waits for what happens in the background by polling until it holds. The deadline only bounds a failure: a test
/// never passes because time went by, and a condition that holds early ends the wait at once.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Polls <paramref name="condition"/> until it holds (true) or <paramref name="timeout"/> passes (false).</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > (timeout ?? DefaultTimeout))
            {
                return condition();
            }

            await Task.Delay(PollInterval);
        }

        return true;
    }

    /// <summary>Reads until <paramref name="done"/> holds or <paramref name="within"/> passes; returns the last value read, for the assertion to judge.</summary>
    public static async Task<T> Until<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? within = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value) || clock.Elapsed > (within ?? DefaultTimeout))
            {
                return value;
            }

            await Task.Delay(PollInterval);
        }
    }
}
