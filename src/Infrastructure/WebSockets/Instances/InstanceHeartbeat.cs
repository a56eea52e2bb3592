using CallNotify.Infrastructure.Persistence.Presence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.WebSockets.Instances;

/// <summary>
/// Keeps this instance alive in the store (PostgreSQL): a heartbeat every <see cref="PresenceTimings.HeartbeatInterval"/>,
/// and now and then the purge of dead instances and a reconciliation of this instance's session rows. At a graceful
/// stop the instance and its sessions leave the store, so other instances stop counting them at once; an instance
/// that dies without stopping stops counting when its heartbeat goes stale.
/// </summary>
public sealed class InstanceHeartbeat(
    PostgresPresence presence,
    WebSocketSessionRegistry sessions,
    ServiceInstance instance,
    ILogger<InstanceHeartbeat> logger) : BackgroundService, IHostedLifecycleService
{
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _leaving = new();
    private bool _failing;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Beat once before the server takes connections, so the first sessions count at once.
        await BeatAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Leaves as soon as the host starts stopping (before <c>ApplicationStopping</c>), while the store is surely still reachable.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => LeaveAsync();

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <remarks>
    /// The beat follows the wall clock, not the injected <see cref="TimeProvider"/>: heartbeats are judged against the
    /// database's clock by every instance, so a paused test clock must not silence them.
    /// </remarks>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PresenceTimings.HeartbeatInterval, TimeProvider.System);
        var nextHousekeeping = DateTimeOffset.MinValue;
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _leaving.Token);
        var token = running.Token;
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                await BeatAsync(token);
                if (!_failing && TimeProvider.System.GetUtcNow() >= nextHousekeeping)
                {
                    nextHousekeeping = TimeProvider.System.GetUtcNow() + PresenceTimings.Housekeeping;
                    await HousekeepAsync(token);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await LeaveAsync();
    }

    public override void Dispose()
    {
        _leaving.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// Graceful stop: no more beats; the instance and its sessions leave the store, so the other instances stop
    /// counting them at once. Runs once.
    /// </summary>
    private async Task LeaveAsync()
    {
        if (_leaving.IsCancellationRequested)
        {
            return;
        }

        await _leaving.CancelAsync();
        try
        {
            using var timeout = new CancellationTokenSource(StoreTimeout);
            await presence.LeaveAsync(timeout.Token);
            logger.LogInformation("Instance {InstanceId} left the store", instance.Id);
        }
        catch (Exception ex) when (IsStoreFailure(ex) || ex is ObjectDisposedException)
        {
            // Its heartbeat goes stale instead: the other instances stop counting its sessions within seconds.
            logger.LogWarning(ex, "Instance {InstanceId} could not leave the store", instance.Id);
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StoreTimeout);
            if (await presence.BeatAsync(timeout.Token) && sessions.Count > 0 && !_leaving.IsCancellationRequested)
            {
                // The row was gone (purged while this instance could not reach the store): so may its sessions be.
                await presence.ReconcileAsync(sessions, timeout.Token);
            }

            if (_failing)
            {
                _failing = false;
                logger.LogInformation("Instance {InstanceId} heartbeat restored", instance.Id);
            }
        }
        catch (Exception ex) when (IsStoreFailure(ex) && !cancellationToken.IsCancellationRequested)
        {
            if (!_failing)
            {
                _failing = true;
                logger.LogWarning(ex, "Instance {InstanceId} heartbeat failed; its sessions stop counting if it keeps failing", instance.Id);
            }
        }
    }

    private async Task HousekeepAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StoreTimeout);
            await presence.PurgeDeadInstancesAsync(timeout.Token);
            if (!_leaving.IsCancellationRequested)
            {
                await presence.ReconcileAsync(sessions, timeout.Token);
            }
        }
        catch (Exception ex) when (IsStoreFailure(ex) && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Presence housekeeping failed; retrying later");
        }
    }

    private static bool IsStoreFailure(Exception ex) =>
        ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException or OperationCanceledException;
}
