using CallNotify.Application.Common.Options;
using CallNotify.Application.Maintenance.SweepStore;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Hosting;

/// <summary>Runs <see cref="SweepStoreCommand"/> every <c>Retention:SweepIntervalSeconds</c>.</summary>
public sealed class StoreSweeperService(
    IServiceScopeFactory scopes,
    IOptions<RetentionOptions> options,
    TimeProvider time,
    ILogger<StoreSweeperService> logger) : PeriodicCommandService<SweepStoreCommand, SweepResult>(scopes, time, logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override void Report(SweepResult result)
    {
        if (result.BindingsExpired > 0 || result.NotificationsPurged > 0 || result.MessageIdsForgotten > 0)
        {
            logger.LogInformation(
                "Sweep: {BindingsExpired} binding(s) expired, {NotificationsPurged} notification record(s) purged, {MessageIdsForgotten} message id(s) forgotten",
                result.BindingsExpired, result.NotificationsPurged, result.MessageIdsForgotten);
        }
    }
}
