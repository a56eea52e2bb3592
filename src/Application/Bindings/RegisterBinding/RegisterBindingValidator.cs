using CallNotify.Application.Common.Validation;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using FluentValidation;

namespace CallNotify.Application.Bindings.RegisterBinding;

public sealed class RegisterBindingValidator : AbstractValidator<RegisterBindingCommand>
{
    public RegisterBindingValidator()
    {
        RuleFor(x => x.AccountSid).MustBeAccountSid();
        RuleFor(x => x.Identity).MustBeIdentity();
        RuleFor(x => x.Channel)
            .Must(c => ChannelKinds.TryParse(c, out var kind) && kind.IsPush())
            .WithMessage("'{PropertyName}' must be one of 'fcm', 'apns-voip', 'apns'.");
        RuleFor(x => x.Address)
            .Must((command, address) => PushAddress.IsValid(ParsedChannel(command.Channel), address))
            .WithMessage(command => ParsedChannel(command.Channel).IsApns()
                ? $"'address' must be an APNs device token: 1 to {PushAddress.MaxLength} hexadecimal digits."
                : $"'address' must be 1 to {PushAddress.MaxLength} characters without spaces or control characters.");
        RuleFor(x => x.Environment)
            .Must(e => ApnsEnvironments.TryParse(e, out _))
            .WithMessage("'{PropertyName}' must be 'production' or 'sandbox'.");
        RuleFor(x => x.AppId)
            .Must(a => Binding.IsValidAppId(a!))
            .When(x => x.AppId is not null)
            .WithMessage($"'{{PropertyName}}' must be 1 to {Binding.MaxAppIdLength} characters without control characters.");
    }

    private static ChannelKind ParsedChannel(string? channel) =>
        ChannelKinds.TryParse(channel, out var kind) ? kind : ChannelKind.Fcm;
}
