using System.Diagnostics;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.Common.Telemetry;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Logging;

namespace CallNotify.Application.Calls.Dispatch;

/// <summary>
/// Carries out one delivery at the delivery worker's request (<see cref="DeliveryJob"/>): the attempts, the record of
/// each result, the retries and what a result means for the binding. It runs nothing by itself: the hosted worker
/// owns the tasks, their number and their cancellation.
/// </summary>
public sealed class DeliveryRunner(
    IEnumerable<INotificationChannel> channels,
    INotificationStore notifications,
    IBindingRepository bindings,
    TimeProvider time,
    ILogger<DeliveryRunner> logger,
    CallNotifyMetrics? metrics = null)
{
    /// <summary>
    /// The longest one attempt may take (a channel's own waits included, e.g. FCM's access-token wait and request
    /// timeout): shorter than the takeover age by more than the store's write timeout, so a delivery is never taken
    /// over while its attempt may still be handing the push to the provider.
    /// </summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(12);

    private readonly Dictionary<ChannelKind, INotificationChannel> _channels = channels.ToDictionary(c => c.Kind);
    private readonly INotificationStore _notifications = notifications;
    private readonly IBindingRepository _bindings = bindings;
    private readonly TimeProvider _time = time;
    private readonly ILogger<DeliveryRunner> _logger = logger;
    private readonly CallNotifyMetrics? _metrics = metrics;

    /// <summary>
    /// Carries out <paramref name="job"/>: each attempt goes to the binding as it is then, each result is recorded, passing
    /// failures are retried on <see cref="RetrySchedule"/> while the invite lives, and the job's decision is completed once
    /// the outcome is decided. Never throws; when <paramref name="stopping"/> fires, the delivery stays pending on record.
    /// </summary>
    public async Task RunAsync(DeliveryJob job, CancellationToken stopping)
    {
        var (notification, delivery, freshBinding, decision, firstAttempt, trace) = job;
        var notificationId = notification.Id;
        var deliveryId = delivery.Id;
        var channel = delivery.Channel;

        // The invite is over for this delivery: it is recorded expired and never sent late.
        async Task ExpireAsync()
        {
            var expired = await _notifications.UpdateAsync(notificationId, n => n.ExpireDelivery(deliveryId, _time.GetUtcNow()), stopping);
            _metrics?.DeliveryExpired(channel);
            Decide(expired, decision);
        }

        try
        {
            for (var attempt = firstAttempt; ; attempt++)
            {
                if (!RetrySchedule.FitsInInvite(_time.GetUtcNow(), TimeSpan.Zero, notification.ExpiresAt))
                {
                    await ExpireAsync();
                    return;
                }

                // Every attempt goes to the binding as it is now: one deleted, deactivated or moved to another callee
                // since the notification arrived is never sent to.
                var binding = freshBinding;
                freshBinding = null;
                if (delivery.BindingId is { } bindingId)
                {
                    binding ??= await _bindings.GetAsync(bindingId, stopping);
                    if (binding is null || !binding.ServesCalleeAt(notification.AccountSid, notification.Identity, _time.GetUtcNow()))
                    {
                        var gone = await _notifications.UpdateAsync(
                            notificationId, n => n.RecordResult(deliveryId, DeliveryResult.ClientGone(DeliveryErrors.BindingInactive), _time.GetUtcNow()), stopping);
                        Decide(gone, decision);
                        return;
                    }
                }

                var message = ToMessage(notification, delivery, binding);
                var started = _time.GetTimestamp();
                DeliveryResult result;
                using (var span = CallNotifyMetrics.Tracing.StartActivity("delivery " + channel.ToWire(), ActivityKind.Internal, trace))
                {
                    span?.SetTag("callnotify.delivery_id", deliveryId);
                    span?.SetTag("callnotify.attempt", attempt);
                    result = await SendOnceAsync(message, stopping);
                    span?.SetTag("callnotify.outcome", result.Kind.ToString());
                }

                _metrics?.DeliveryAttempted(channel, result.Kind, _time.GetElapsedTime(started));
                var delay = RetrySchedule.Backoff(attempt, result.RetryAfter);

                // A client has the call: the webhook's answer is decided (SPEC §3 step 5), whatever the others do. The
                // notification is on record already; this result's record follows without holding the answer back.
                if (result.Kind == DeliveryResultKind.Accepted)
                {
                    decision.TrySetResult(NotificationOutcome.Delivered);
                }

                // The result's time is when the send finished, not when its record gets written: that may wait for
                // the store, or for the client's ack to be recorded first.
                var finished = _time.GetUtcNow();
                var updated = await _notifications.UpdateAsync(
                    notificationId, n => n.RecordResult(deliveryId, result, finished, finished + delay), stopping);
                Decide(updated, decision);
                await ApplyToBindingAsync(delivery.BindingId, message, result, stopping);

                if (result.Kind != DeliveryResultKind.Retry || updated is null || updated.GetDelivery(deliveryId).IsFinal)
                {
                    return;
                }

                if (!RetrySchedule.FitsInInvite(_time.GetUtcNow(), delay, notification.ExpiresAt))
                {
                    await ExpireAsync();
                    return;
                }

                _metrics?.RetryWaiting(+1);
                try
                {
                    await Task.Delay(delay, _time, stopping);
                }
                finally
                {
                    _metrics?.RetryWaiting(-1);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down: the delivery stays pending on record.
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Delivery {DeliveryId} of notification {NotificationId} stopped: its result could not be recorded", deliveryId, notificationId);
        }
    }

    /// <summary>
    /// One attempt, cut off after <see cref="AttemptTimeout"/> whatever the channel does, so that no attempt outlives
    /// the age at which another instance takes a delivery over (<see cref="ResumeStalledDeliveries.ResumeStalledDeliveriesHandler.TakeoverAfter"/>).
    /// </summary>
    private async ValueTask<DeliveryResult> SendOnceAsync(ChannelMessage message, CancellationToken cancellationToken)
    {
        if (!_channels.TryGetValue(message.Channel, out var channel))
        {
            return DeliveryResult.Failed(DeliveryErrors.ChannelNotConfigured);
        }

        using var timer = new CancellationTokenSource(AttemptTimeout, _time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return await channel.SendAsync(message, attempt.Token).AsTask().WaitAsync(attempt.Token);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("Channel {Channel} did not finish delivery {DeliveryId} within {Timeout}", message.Channel.ToWire(), message.DeliveryId, AttemptTimeout);
            return DeliveryResult.Retry(DeliveryErrors.AttemptTimeout);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Channels report provider answers as results; anything thrown is a transport fault worth another try.
            _logger.LogWarning(ex, "Channel {Channel} failed on delivery {DeliveryId}", message.Channel.ToWire(), message.DeliveryId);
            return DeliveryResult.Retry(ex.GetType().Name);
        }
    }

    private async Task ApplyToBindingAsync(string? bindingId, ChannelMessage message, DeliveryResult result, CancellationToken cancellationToken)
    {
        if (bindingId is null)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var consequence = BindingConsequence.Of(result);
        switch (consequence.Kind)
        {
            case BindingConsequenceKind.Deactivate:
                var reason = consequence.Reason!;
                var deactivated = false;
                await _bindings.UpdateAsync(bindingId, b => deactivated = b.Deactivate(reason, now), cancellationToken);
                if (deactivated)
                {
                    _metrics?.BindingDeactivated(reason);
                }

                _logger.LogInformation(
                    "Binding {BindingId} ({Channel}, token {Token}) deactivated: {Reason}",
                    bindingId, message.Channel.ToWire(), PushAddress.Redact(message.Address), reason);
                break;
            case BindingConsequenceKind.StampDelivery:
                await _notifications.RecordBindingDeliveryAsync(bindingId, now, cancellationToken);
                break;
            default:
                break;
        }
    }

    private static void Decide(CallNotification? notification, TaskCompletionSource<NotificationOutcome> decision)
    {
        if (notification is not null && notification.Outcome != NotificationOutcome.Pending)
        {
            decision.TrySetResult(notification.Outcome);
        }
    }

    private static ChannelMessage ToMessage(CallNotification notification, Delivery delivery, Binding? binding) => new(
        delivery.Id,
        delivery.Channel,
        binding?.Address.Value ?? delivery.SessionId ?? string.Empty,
        BindingRegistration.Of(binding),
        notification.TwiMessageId,
        notification.RawBody,
        notification.ExpiresAt);
}
