using CallNotify.Application.Common.Ports;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.WebSockets.Instances;

/// <summary>
/// The other instances' sign-outs reach this one's sessions (PostgreSQL): every <see cref="Interval"/> it reads the
/// sign-outs recorded lately and ends its sessions of those identities whose tokens are older. The instance that took
/// the sign-out ends its own sessions at once and asks the holders of the others through the relay; this is what
/// makes that hold when a relay message is lost, or a session was opening while the sign-out was recorded.
/// </summary>
public sealed class SignOutWatcher(
    ISignOuts signOuts,
    WebSocketSessions sessions,
    WebSocketSessionRegistry registry,
    ILogger<SignOutWatcher> logger) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>How far back each read reaches before the newest sign-out seen: commits and clocks of other instances lag.</summary>
    private static readonly TimeSpan Overlap = TimeSpan.FromSeconds(30);

    private const int Batch = 1000;

    /// <remarks>The wall clock, as the heartbeat's: the sign-outs are stamped by other instances' clocks.</remarks>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var since = TimeProvider.System.GetUtcNow() - Overlap;
        using var timer = new PeriodicTimer(Interval, TimeProvider.System);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (registry.Count == 0)
                {
                    // Nothing to end here; the window still moves so that a first session does not read far back.
                    since = TimeProvider.System.GetUtcNow() - Overlap;
                    continue;
                }

                since = await CheckAsync(since, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Ends the sessions the sign-outs since <paramref name="since"/> cover; the next window's start.</summary>
    internal async Task<DateTimeOffset> CheckAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        try
        {
            var recent = await signOuts.SinceAsync(since, Batch, cancellationToken);
            foreach (var signOut in recent)
            {
                await sessions.EndLocalSignedOutAsync(signOut.AccountSid, signOut.Identity, signOut.At);
            }

            var newest = recent.Count > 0 ? recent[^1].At : since + Overlap;
            return recent.Count == Batch ? newest : Min(newest, TimeProvider.System.GetUtcNow()) - Overlap;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException
                                   && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Sign-outs could not be read; retrying in {Interval}", Interval);
            return since;
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
