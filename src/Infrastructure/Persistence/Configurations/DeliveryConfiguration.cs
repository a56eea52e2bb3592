using CallNotify.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CallNotify.Infrastructure.Persistence.Configurations;

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<Delivery>
{
    public void Configure(EntityTypeBuilder<Delivery> builder)
    {
        builder.ToTable("deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).HasMaxLength(34);
        builder.Property(d => d.NotificationId).HasMaxLength(34).IsRequired();
        builder.Property(d => d.BindingId).HasMaxLength(34);
        builder.Property(d => d.SessionId).HasMaxLength(34);
        builder.Property(d => d.Channel).HasConversion(Converters.Channel).HasMaxLength(16);
        builder.Property(d => d.CreatedAt);
        builder.HasIndex(d => d.NotificationId);

        // The state is folded from the history, never stored (ADR 0021).
        builder.Ignore(d => d.Status);
        builder.Ignore(d => d.Attempts);
        builder.Ignore(d => d.LastError);
        builder.Ignore(d => d.ClientGone);
        builder.Ignore(d => d.AcceptedAt);
        builder.Ignore(d => d.AcknowledgedAt);
        builder.Ignore(d => d.UpdatedAt);
        builder.Ignore(d => d.NextAttemptAt);
        builder.Ignore(d => d.IsFinal);

        // The history, appended: recording an event inserts its row and rewrites nothing. The key (delivery, sequence)
        // lets only one of two writers append a delivery's next event (ADR 0021).
        builder.OwnsMany(d => d.Events, events =>
        {
            events.ToTable("delivery_events");
            events.WithOwner().HasForeignKey(DeliveryEventColumns.DeliveryId);
            events.Property(e => e.Sequence);
            events.HasKey(DeliveryEventColumns.DeliveryId, nameof(DeliveryEvent.Sequence));
            events.Property(e => e.Sequence).ValueGeneratedNever();
            events.Property(e => e.At);
            events.Property(e => e.Kind).HasConversion(Converters.DeliveryEventKind).HasMaxLength(16);
            events.Property(e => e.Detail).HasMaxLength(Delivery.MaxErrorLength);
            events.Property(e => e.DueAt);

            // The takeover scan's retries and leases by when they fall due: only those rows carry a due time.
            events.HasIndex(e => e.DueAt).HasFilter("due_at IS NOT NULL");
        });
        builder.Navigation(d => d.Events).HasField("_events").UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

/// <summary>The shadow property of <c>delivery_events</c>: its delivery.</summary>
internal static class DeliveryEventColumns
{
    public const string DeliveryId = "DeliveryId";
}
