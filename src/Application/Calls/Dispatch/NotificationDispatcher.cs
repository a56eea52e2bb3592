using System.Diagnostics;
using CallNotify.Application.Common.Options;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CallNotify.Application.Calls.Dispatch;

/// <summary>
/// Hands a recorded notification's deliveries to the delivery worker (<see cref="IDeliveryJobs"/>) and waits for the
/// decision: the first decisive outcome or the response deadline, whichever comes first. Deliveries still running
/// carry on without the caller. A delivery the full queue refuses stays pending on record for a takeover.
/// </summary>
public sealed class NotificationDispatcher(
    IDeliveryJobs jobs,
    IOptions<DispatchOptions> options,
    TimeProvider time,
    ILogger<NotificationDispatcher> logger)
{
    /// <summary>
    /// Enqueues every delivery of <paramref name="notification"/> and returns its outcome once decided, or
    /// <see cref="NotificationOutcome.Pending"/> when the response deadline passes first or no delivery could be queued.
    /// </summary>
    /// <param name="bindings">The bindings the webhook's lookup read: the first attempts need no other read.</param>
    public async Task<NotificationOutcome> DispatchAsync(
        CallNotification notification,
        IReadOnlyCollection<Binding> bindings,
        CancellationToken cancellationToken)
    {
        try
        {
            return await Enqueue(notification, bindings).WaitAsync(options.Value.ResponseDeadline, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return NotificationOutcome.Pending;
        }
    }

    /// <summary>
    /// Enqueues the deliveries of the notification <paramref name="recording"/> (the write that records it) records,
    /// for a webhook that stopped waiting for that write: nobody waits for the outcome. Nothing is enqueued when the
    /// write fails or records nothing.
    /// </summary>
    public void DispatchOnceRecorded(Task<CallRecording> recording)
    {
        var trace = Activity.Current?.Context ?? default;
        _ = recording.ContinueWith(
            write =>
            {
                if (write.IsCompletedSuccessfully && write.Result is { Kind: CallRecordingKind.Recorded, Notification: { } notification } recorded)
                {
                    logger.LogInformation(
                        "Notification {NotificationId} was recorded after its webhook stopped waiting; its deliveries start now", notification.Id);
                    _ = Enqueue(notification, recorded.Bindings, trace);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Carries on a delivery this instance took over from one that went silent: attempts it now, and retries it as
    /// the original dispatcher would have, until it is final or the invite ends. Its binding is read afresh first.
    /// </summary>
    public void Resume(CallNotification notification, Delivery delivery)
    {
        var nobodyWaits = new TaskCompletionSource<NotificationOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        TryEnqueue(new DeliveryJob(notification, delivery, null, nobodyWaits, delivery.Attempts + 1, Activity.Current?.Context ?? default));
    }

    /// <summary>Queues every delivery of <paramref name="notification"/>; the task completes once its outcome is decided.</summary>
    private Task<NotificationOutcome> Enqueue(CallNotification notification, IReadOnlyCollection<Binding> bindings, ActivityContext? trace = null)
    {
        var decision = new TaskCompletionSource<NotificationOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = trace ?? Activity.Current?.Context ?? default;
        var byId = bindings.ToDictionary(b => b.Id);
        var queued = 0;
        foreach (var delivery in notification.Deliveries)
        {
            var binding = delivery.BindingId is { } id && byId.TryGetValue(id, out var b) ? b : null;
            queued += TryEnqueue(new DeliveryJob(notification, delivery, binding, decision, 1, context)) ? 1 : 0;
        }

        if (queued == 0)
        {
            // Nothing will decide it now: answer at once rather than at the deadline.
            decision.TrySetResult(NotificationOutcome.Pending);
        }

        return decision.Task;
    }

    /// <summary>Hands <paramref name="job"/> to the worker; a refused one is said once, here, and stays pending on record.</summary>
    private bool TryEnqueue(DeliveryJob job)
    {
        if (jobs.TryEnqueue(job))
        {
            return true;
        }

        logger.LogWarning(
            "Delivery {DeliveryId} of notification {NotificationId} not queued: the delivery queue is full; it stays pending for a takeover",
            job.Delivery.Id, job.Notification.Id);
        return false;
    }
}
