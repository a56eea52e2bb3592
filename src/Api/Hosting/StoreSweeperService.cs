using CallNotify.Application.Common.Options;
using CallNotify.Application.Maintenance.SweepStore;
using Mediator;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Hosting;

/// <summary>Runs <see cref="SweepStoreCommand"/> every <c>Retention:SweepIntervalSeconds</c>, on every instance.</summary>
public sealed class StoreSweeperService(
    IServiceScopeFactory scopes,
    IOptions<RetentionOptions> options,
    TimeProvider time,
    ILogger<StoreSweeperService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var result = await scope.ServiceProvider.GetRequiredService<ISender>().Send(new SweepStoreCommand(), stoppingToken);
                if (result.BindingsExpired > 0 || result.NotificationsPurged > 0)
                {
                    logger.LogInformation(
                        "Sweep: {BindingsExpired} binding(s) expired, {NotificationsPurged} notification record(s) purged",
                        result.BindingsExpired, result.NotificationsPurged);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store may be down: the next tick tries again.
                logger.LogWarning(ex, "Sweep failed; retrying at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
