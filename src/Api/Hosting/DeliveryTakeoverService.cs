using CallNotify.Application.Calls.ResumeStalledDeliveries;

namespace CallNotify.Api.Hosting;

/// <summary>
/// Every 2 s, takes over deliveries whose dispatching instance went silent (<see cref="ResumeStalledDeliveriesCommand"/>),
/// each scan starting where the last one that succeeded ended.
/// </summary>
public sealed class DeliveryTakeoverService(
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<DeliveryTakeoverService> logger) : PeriodicCommandService<ResumeStalledDeliveriesCommand, ResumeResult>(scopes, time, logger)
{
    private DateTimeOffset? _scannedUpTo;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(2);

    protected override ResumeStalledDeliveriesCommand NextCommand() => new(_scannedUpTo);

    protected override void Report(ResumeResult result)
    {
        _scannedUpTo = result.ScannedUpTo;
        if (result.Resumed > 0 || result.Expired > 0)
        {
            logger.LogInformation(
                "Took over {Resumed} stalled delivery(ies); {Expired} expired with their invite",
                result.Resumed, result.Expired);
        }
    }
}
