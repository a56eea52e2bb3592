using CallNotify.Application.Calls.ResumeStalledDeliveries;

namespace CallNotify.Api.Hosting;

/// <summary>Every 2 s, takes over deliveries whose dispatching instance went silent (<see cref="ResumeStalledDeliveriesCommand"/>).</summary>
public sealed class DeliveryTakeoverService(
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<DeliveryTakeoverService> logger) : PeriodicCommandService<ResumeStalledDeliveriesCommand, ResumeResult>(scopes, time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(2);

    protected override void Report(ResumeResult result)
    {
        if (result.Resumed > 0 || result.Expired > 0)
        {
            logger.LogInformation(
                "Took over {Resumed} stalled delivery(ies); {Expired} expired with their invite",
                result.Resumed, result.Expired);
        }
    }
}
