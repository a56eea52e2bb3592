using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;
using Mediator;

namespace CallNotify.Application.Calls.ResumeStalledDeliveries;

/// <summary>
/// Durable retries: a pending delivery whose next attempt is long overdue belongs to an instance that died (or a
/// process that restarted). Any instance takes it over — the notification's version check lets only one win — and
/// attempts it while the invite lives; one whose invite has ended is recorded <c>expired</c> and never sent late.
/// </summary>
public sealed record ResumeStalledDeliveriesCommand : ICommand<ResumeResult>;

public sealed record ResumeResult(int Resumed, int Expired);

public sealed class ResumeStalledDeliveriesHandler(
    INotificationRepository notifications,
    NotificationDispatcher dispatcher,
    TimeProvider time) : ICommandHandler<ResumeStalledDeliveriesCommand, ResumeResult>
{
    /// <summary>
    /// How overdue an attempt must be before another instance takes it: longer than any one attempt lasts
    /// (<see cref="DeliveryRunner.AttemptTimeout"/>) plus the write of its result.
    /// </summary>
    public static readonly TimeSpan TakeoverAfter = TimeSpan.FromSeconds(20);

    /// <summary>How long a take-over owns the delivery before yet another instance may take it.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(20);

    private const int BatchSize = 100;

    public async ValueTask<ResumeResult> Handle(ResumeStalledDeliveriesCommand command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stalled = await notifications.FindStalledAsync(now - TakeoverAfter, BatchSize, cancellationToken);
        int resumed = 0, expired = 0;
        foreach (var (notificationId, deliveryId) in stalled)
        {
            var tookOver = false;
            var wasExpired = false;
            var notification = await notifications.UpdateAsync(
                notificationId,
                n =>
                {
                    wasExpired = !n.IsLiveAt(now) && n.ExpireDelivery(deliveryId, now);
                    tookOver = !wasExpired && n.IsLiveAt(now) && n.TakeOverDelivery(deliveryId, now - TakeoverAfter, now + Lease, now);
                    return wasExpired || tookOver;
                },
                cancellationToken);
            expired += wasExpired ? 1 : 0;
            if (!tookOver || notification is null)
            {
                continue;
            }

            // The dispatcher reads the binding afresh before the attempt, as before every attempt.
            dispatcher.Resume(notification, notification.GetDelivery(deliveryId));
            resumed++;
        }

        return new ResumeResult(resumed, expired);
    }
}
