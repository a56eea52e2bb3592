using System.Reflection;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;

namespace CallNotify.Tests.Fakes;

/// <summary>
/// Copies of entities, so the in-memory stores hand out detached copies the way the real store does
/// (a caller changing what it read does not change what is stored). The entities have private setters
/// and no copy method, hence the reflection.
/// </summary>
internal static class Snapshot
{
    private static readonly MethodInfo ShallowCopy =
        typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!;

    private static readonly FieldInfo DeliveriesField =
        typeof(CallNotification).GetField("_deliveries", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("CallNotification no longer keeps its deliveries in '_deliveries': update the test snapshot.");

    private static readonly FieldInfo EventsField =
        typeof(Delivery).GetField("_events", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("Delivery no longer keeps its events in '_events': update the test snapshot.");

    public static Binding Of(Binding binding) => (Binding)ShallowCopy.Invoke(binding, null)!;

    public static CallNotification Of(CallNotification notification)
    {
        var copy = (CallNotification)ShallowCopy.Invoke(notification, null)!;
        var deliveries = notification.Deliveries.Select(Of).ToList();
        DeliveriesField.SetValue(copy, deliveries);
        return copy;
    }

    private static Delivery Of(Delivery delivery)
    {
        var copy = (Delivery)ShallowCopy.Invoke(delivery, null)!;
        EventsField.SetValue(copy, delivery.Events.ToList());
        return copy;
    }
}
