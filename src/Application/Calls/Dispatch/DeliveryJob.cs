using System.Diagnostics;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Calls.Dispatch;

/// <summary>
/// One delivery for the delivery worker to carry out (<see cref="DeliveryRunner"/>): its attempts, retries and record,
/// until it is final or the invite ends.
/// </summary>
/// <param name="FreshBinding">The delivery's binding as read for its first attempt (by the webhook's lookup); null to read it then.</param>
/// <param name="Decision">Completed with the notification's outcome once it is decided, for whoever waits for it.</param>
/// <param name="FirstAttempt">The number of the first attempt to make (a delivery taken over goes on counting).</param>
/// <param name="Trace">The trace of the request that asked for it, so the attempts' spans hang under it.</param>
public sealed record DeliveryJob(
    CallNotification Notification,
    Delivery Delivery,
    Binding? FreshBinding,
    TaskCompletionSource<NotificationOutcome> Decision,
    int FirstAttempt,
    ActivityContext Trace);
