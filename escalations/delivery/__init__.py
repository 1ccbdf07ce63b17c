"""Delivery channels behind one small protocol: `send(target, message)`
returns a provider id or raises DeliveryError. Secrets never reach logs."""

from escalations.delivery.base import ADAPTERS, DeliveryError, Message, Target, adapter_for

__all__ = ["ADAPTERS", "DeliveryError", "Message", "Target", "adapter_for"]
