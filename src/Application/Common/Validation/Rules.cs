using CallNotify.Domain.Common;
using FluentValidation;

namespace CallNotify.Application.Common.Validation;

/// <summary>Validation rules shared by the use cases; each defers to the domain's own definition of valid.</summary>
public static class Rules
{
    public static IRuleBuilderOptions<T, string?> MustBeAccountSid<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(AccountSid.IsValid).WithMessage("'{PropertyName}' must be " + AccountSid.Format + ".");

    public static IRuleBuilderOptions<T, string?> MustBeIdentity<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(ClientIdentity.IsValid)
            .WithMessage($"'{{PropertyName}}' must be 1 to {ClientIdentity.MaxLength} characters without control characters.");

    public static IRuleBuilderOptions<T, int?> MustBePageSize<T>(this IRuleBuilder<T, int?> rule) =>
        rule.InclusiveBetween(1, Paging.PageToken.MaxPageSize);
}
