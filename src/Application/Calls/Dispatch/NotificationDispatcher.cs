using CallNotify.Application.Common.Options;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.Common.Telemetry;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CallNotify.Application.Calls.Dispatch;

/// <summary>
/// Fans one recorded notification out to its clients in parallel. Each delivery records every attempt's result;
/// passing failures are retried with jittered exponential backoff (honouring the provider's Retry-After) while the
/// invite lives, then expire. The caller is answered at the first decisive outcome or at the response deadline,
/// whichever comes first; deliveries still running carry on without it.
/// </summary>
public sealed class NotificationDispatcher : IDisposable
{
    private static readonly TimeSpan BackoffBase = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan BackoffCap = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest one attempt may take (a channel's own waits included, e.g. FCM's access-token wait and request
    /// timeout): shorter than the takeover age by more than the store's write timeout, so a delivery is never taken
    /// over while its attempt may still be handing the push to the provider.
    /// </summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(12);

    private readonly Dictionary<ChannelKind, INotificationChannel> _channels;
    private readonly INotificationRepository _notifications;
    private readonly IBindingRepository _bindings;
    private readonly IOptions<DispatchOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<NotificationDispatcher> _logger;
    private readonly CallNotifyMetrics? _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private int _disposed;

    public NotificationDispatcher(
        IEnumerable<INotificationChannel> channels,
        INotificationRepository notifications,
        IBindingRepository bindings,
        IOptions<DispatchOptions> options,
        TimeProvider time,
        ILogger<NotificationDispatcher> logger,
        CallNotifyMetrics? metrics = null)
    {
        _channels = channels.ToDictionary(c => c.Kind);
        _notifications = notifications;
        _bindings = bindings;
        _options = options;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _stoppingToken = _stopping.Token;
    }

    /// <summary>
    /// Starts every delivery of <paramref name="notification"/> and returns its outcome once decided, or
    /// <see cref="NotificationOutcome.Pending"/> when the response deadline passes first.
    /// </summary>
    public async Task<NotificationOutcome> DispatchAsync(
        CallNotification notification,
        IReadOnlyCollection<Binding> bindings,
        CancellationToken cancellationToken)
    {
        try
        {
            return await Start(notification, bindings).WaitAsync(_options.Value.ResponseDeadline, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return NotificationOutcome.Pending;
        }
    }

    /// <summary>
    /// Starts the deliveries of <paramref name="notification"/> once <paramref name="recording"/> (the write that
    /// records it) says it was recorded, for a webhook that stopped waiting for that write: nobody waits for the
    /// outcome. Nothing starts when the write fails or finds the message already recorded.
    /// </summary>
    public void DispatchOnceRecorded(Task<bool> recording, CallNotification notification, IReadOnlyCollection<Binding> bindings) =>
        _ = recording.ContinueWith(
            write =>
            {
                if (write.IsCompletedSuccessfully && write.Result && !_stoppingToken.IsCancellationRequested)
                {
                    _logger.LogInformation(
                        "Notification {NotificationId} was recorded after its webhook stopped waiting; its deliveries start now", notification.Id);
                    _ = Start(notification, bindings);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);

    /// <summary>Starts every delivery of <paramref name="notification"/>; the task completes once its outcome is decided.</summary>
    private Task<NotificationOutcome> Start(CallNotification notification, IReadOnlyCollection<Binding> bindings)
    {
        var decision = new TaskCompletionSource<NotificationOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var byId = bindings.ToDictionary(b => b.Id);
        foreach (var delivery in notification.Deliveries)
        {
            // Each delivery runs on this thread up to its first wait (the channel's send), then on its own; none
            // throws (DeliverAsync catches everything), so starting them one after another cannot stop the others.
            // The lookup's binding was read after the notification arrived: the first attempt needs no other read.
            var binding = delivery.BindingId is { } id && byId.TryGetValue(id, out var b) ? b : null;
            _ = DeliverAsync(notification, delivery, binding, decision);
        }

        return decision.Task;
    }

    /// <summary>
    /// Carries on a delivery this instance took over from one that went silent: attempts it now, and retries it as
    /// the original dispatcher would have, until it is final or the invite ends. Its binding is read afresh first.
    /// </summary>
    public void Resume(CallNotification notification, Delivery delivery)
    {
        var nobodyWaits = new TaskCompletionSource<NotificationOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(() => DeliverAsync(notification, delivery, freshBinding: null, nobodyWaits, delivery.Attempts + 1), CancellationToken.None);
    }

    /// <param name="freshBinding">The delivery's binding as read for this very attempt; null to read it now.</param>
    private async Task DeliverAsync(
        CallNotification notification,
        Delivery delivery,
        Binding? freshBinding,
        TaskCompletionSource<NotificationOutcome> decision,
        int firstAttempt = 1)
    {
        var stopping = _stoppingToken;
        var notificationId = notification.Id;
        var deliveryId = delivery.Id;
        var channel = delivery.Channel;
        try
        {
            for (var attempt = firstAttempt; ; attempt++)
            {
                if (_time.GetUtcNow() >= notification.ExpiresAt)
                {
                    var expired = await _notifications.UpdateAsync(
                        notificationId, n => n.ExpireDelivery(deliveryId, _time.GetUtcNow()), stopping);
                    _metrics?.DeliveryExpired(channel);
                    Decide(expired, decision);
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
                using (var span = CallNotifyMetrics.Tracing.StartActivity("delivery " + channel.ToWire()))
                {
                    span?.SetTag("callnotify.delivery_id", deliveryId);
                    span?.SetTag("callnotify.attempt", attempt);
                    result = await SendOnceAsync(message, stopping);
                    span?.SetTag("callnotify.outcome", result.Kind.ToString());
                }

                _metrics?.DeliveryAttempted(channel, result.Kind, _time.GetElapsedTime(started));
                var delay = Backoff(attempt, result.RetryAfter);

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

                if (_time.GetUtcNow() + delay >= notification.ExpiresAt)
                {
                    var expired = await _notifications.UpdateAsync(
                        notificationId, n => n.ExpireDelivery(deliveryId, _time.GetUtcNow()), stopping);
                    _metrics?.DeliveryExpired(channel);
                    Decide(expired, decision);
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
        switch (result.Kind)
        {
            case DeliveryResultKind.ClientGone:
                var reason = result.Reason ?? InactiveReasons.Unregistered;
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
            case DeliveryResultKind.Accepted:
                await _bindings.RecordDeliveryAsync(bindingId, now, cancellationToken);
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

    /// <summary>Full-jitter exponential backoff, never sooner than the provider asked.</summary>
    internal static TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var ceiling = Math.Min(BackoffCap.TotalMilliseconds, BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16)));
        var jittered = TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
        return retryAfter is { } asked && asked > jittered ? asked : jittered;
    }

    private static ChannelMessage ToMessage(CallNotification notification, Delivery delivery, Binding? binding) => new(
        delivery.Id,
        delivery.Channel,
        binding?.Address ?? delivery.SessionId ?? string.Empty,
        binding?.Environment ?? ApnsEnvironment.Production,
        binding?.AppId,
        notification.TwiMessageId,
        notification.RawBody,
        notification.ExpiresAt);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
    }
}
