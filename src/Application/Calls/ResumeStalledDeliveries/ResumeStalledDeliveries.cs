using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;
using Mediator;

namespace CallNotify.Application.Calls.ResumeStalledDeliveries;

/// <summary>
/// Durable retries: a pending delivery whose next attempt is long overdue belongs to an instance that died (or a
/// process that restarted). Any instance takes it over — appending the delivery's next event lets only one win — and
/// attempts it while the invite lives; one whose invite has ended is recorded <c>expired</c> and never sent late.
/// </summary>
/// <param name="ScannedUpTo">
/// Where the previous scan's window ended (<see cref="ResumeResult.ScannedUpTo"/>): this scan reads only deliveries that
/// fell due after it. Null: from <see cref="ResumeStalledDeliveriesHandler.FirstScanLookback"/> back.
/// </param>
public sealed record ResumeStalledDeliveriesCommand(DateTimeOffset? ScannedUpTo) : ICommand<ResumeResult>
{
    /// <summary>A scan with no previous window.</summary>
    public ResumeStalledDeliveriesCommand()
        : this((DateTimeOffset?)null)
    {
    }
}

/// <param name="ScannedUpTo">Where this scan's window ended: the next scan starts there.</param>
public sealed record ResumeResult(int Resumed, int Expired, DateTimeOffset ScannedUpTo);

public sealed class ResumeStalledDeliveriesHandler(
    INotificationStore notifications,
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

    /// <summary>
    /// How far back before the takeover age a scan without a previous window looks (an instance's first scan): longer
    /// than the longest invite (<c>Dispatch:InviteTtlSeconds</c> at most 600) plus a lease.
    /// </summary>
    public static readonly TimeSpan FirstScanLookback = TimeSpan.FromMinutes(15);

    private const int BatchSize = 100;

    public async ValueTask<ResumeResult> Handle(ResumeStalledDeliveriesCommand command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var dueBy = now - TakeoverAfter;
        var dueAfter = command.ScannedUpTo ?? dueBy - FirstScanLookback;
        var stalled = await notifications.FindStalledAsync(dueAfter, dueBy, BatchSize, cancellationToken);

        // A full page ends the window just before its last due time (the next scan reads that instant again): the
        // deliveries past the page are read next time, none skipped. A window never moves back.
        var scannedUpTo = dueBy;
        if (stalled.Count >= BatchSize)
        {
            var last = stalled[^1].DueAt;
            scannedUpTo = last - TimeSpan.FromTicks(1) > dueAfter ? last - TimeSpan.FromTicks(1) : last;
        }

        if (scannedUpTo < dueAfter)
        {
            scannedUpTo = dueAfter;
        }

        int resumed = 0, expired = 0;
        foreach (var (notificationId, deliveryId, _) in stalled)
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

        return new ResumeResult(resumed, expired, scannedUpTo);
    }
}
