namespace CallNotify.Domain.Common;

/// <summary>How a client is reached. Bindings use the push channels; live sessions use <see cref="WebSocket"/>.</summary>
public enum ChannelKind
{
    Fcm,
    ApnsVoip,
    Apns,
    WebSocket,
}

public static class ChannelKinds
{
    public static string ToWire(this ChannelKind kind) => kind switch
    {
        ChannelKind.Fcm => "fcm",
        ChannelKind.ApnsVoip => "apns-voip",
        ChannelKind.Apns => "apns",
        ChannelKind.WebSocket => "websocket",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string? value, out ChannelKind kind)
    {
        switch (value)
        {
            case "fcm": kind = ChannelKind.Fcm; return true;
            case "apns-voip": kind = ChannelKind.ApnsVoip; return true;
            case "apns": kind = ChannelKind.Apns; return true;
            case "websocket": kind = ChannelKind.WebSocket; return true;
            default: kind = default; return false;
        }
    }

    /// <summary>Push channels are the ones a binding can be registered for.</summary>
    public static bool IsPush(this ChannelKind kind) => kind is ChannelKind.Fcm or ChannelKind.ApnsVoip or ChannelKind.Apns;

    public static bool IsApns(this ChannelKind kind) => kind is ChannelKind.ApnsVoip or ChannelKind.Apns;

    /// <summary>Parses a channel a binding may be registered for, or throws.</summary>
    public static ChannelKind ParseBindingChannel(string? value) =>
        TryParse(value, out var kind) && kind.IsPush()
            ? kind
            : throw new DomainException("channel", "The channel is one of 'fcm', 'apns-voip', 'apns'.");
}
