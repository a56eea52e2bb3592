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
}
