using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace CallNotify.Infrastructure.Persistence.Configurations;

/// <summary>
/// Enums are stored as their API wire names, so the tables read the way the API does; value objects as their text.
/// </summary>
internal static class Converters
{
    public static readonly ValueConverter<ChannelKind, string> Channel = new(
        v => v.ToWire(),
        v => ParseChannel(v));

    public static readonly ValueConverter<ApnsEnvironment, string> Environment = new(
        v => v.ToWire(),
        v => ApnsEnvironments.Parse(v));

    public static readonly ValueConverter<Domain.Bindings.BindingStatus, string> BindingStatus = new(
        v => Domain.Bindings.BindingStatuses.ToWire(v),
        v => Domain.Bindings.BindingStatuses.Parse(v));

    public static readonly ValueConverter<DeliveryEventKind, string> DeliveryEventKind = new(
        v => v.ToWire(),
        v => ParseDeliveryEventKind(v));

    // Value objects are stored as their text; what the store holds was checked when it was written.
    public static readonly ValueConverter<AccountSid, string> AccountSid = new(
        v => v.Value,
        v => Domain.Common.AccountSid.Restore(v));

    public static readonly ValueConverter<ClientIdentity, string> Identity = new(
        v => v.Value,
        v => ClientIdentity.Restore(v));

    public static readonly ValueConverter<PushAddress, string> Address = new(
        v => v.Value,
        v => PushAddress.Restore(v));

    internal static ChannelKind ParseChannel(string value) =>
        ChannelKinds.TryParse(value, out var kind) ? kind : throw new InvalidOperationException($"Unknown channel '{value}' in the store.");

    internal static DeliveryEventKind ParseDeliveryEventKind(string value) =>
        DeliveryEventWire.TryParse(value, out var kind) ? kind : throw new InvalidOperationException($"Unknown delivery event '{value}' in the store.");
}
