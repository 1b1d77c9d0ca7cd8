"""Everyday equivalences of an estimate and its energy class: the factors, each with its source, and the bands.

An equivalence is a metric (`server.pipeline.metrics`): one of the headline sums divided by what one everyday
thing takes. The energy class is a label, A to G, from a line's inference energy per 1,000 output tokens; it needs
the line's output tokens, so only the Sheets functions show it.
"""

from __future__ import annotations

import math

# gCO2e per km driven: "a typical passenger vehicle emits about 400 grams of CO2 per mile" (US EPA, "Greenhouse
# Gas Emissions from a Typical Passenger Vehicle", EPA-420-F-23-014, 2023), over 1.609344 km per mile.
CAR_GCO2E_PER_KM = 400.0 / 1.609344
# Wh per smartphone charge: US EPA Greenhouse Gas Equivalencies Calculator, "Number of smartphones charged"
# (2020 revision): a smartphone's 24-hour energy, 14.46 Wh (US DOE 2020), less 22 hours of maintenance mode at
# 0.13 W once charged: 14.46 - 2.86 = 11.60 Wh.
PHONE_CHARGE_WH = 14.46 - 22 * 0.13
# mL per shower: "the average shower uses 17.2 gallons (65.1 liters) and lasts for 8.2 minutes" (US EPA
# WaterSense, "Showerheads").
SHOWER_ML = 65_100.0

# (metric name, the sum it divides, the divisor, unit, what): read by `server.pipeline.metrics`.
EQUIVALENCES: tuple[tuple[str, str, float, str, str], ...] = (
    ("km_by_car", "gco2e", CAR_GCO2E_PER_KM, "km", "km a typical petrol car drives for the same emissions"),
    ("phone_charges", "energy_wh", PHONE_CHARGE_WH, "charges", "smartphone charges of the same energy"),
    ("showers", "water_ml", SHOWER_ML, "showers", "average showers of the same water"),
)

# The energy class of a line: its inference Wh per 1,000 output tokens (facility energy, prompt included), in
# bands that double from A to F; G above. Our scale, not a standard: A <= 0.25 Wh, B <= 0.5, C <= 1, D <= 2,
# E <= 4, F <= 8. Anchors: Google's median Gemini Apps text prompt, 0.24 Wh (Elsworth et al. 2025, about 300
# output tokens assumed: ~0.8 Wh per 1,000, class C); an 8B model at production batch sits in A or B, a 405B
# dense model on 8 GPUs in D.
ENERGY_CLASS = "energy_class"
ENERGY_CLASS_BANDS: tuple[tuple[str, float], ...] = (
    ("A", 0.25),
    ("B", 0.5),
    ("C", 1.0),
    ("D", 2.0),
    ("E", 4.0),
    ("F", 8.0),
)
WORST_CLASS = "G"


def energy_class(inference_energy_wh: float, output_tokens: float | None) -> str:
    """The class of a line, or "" for a line with no output tokens (an image, an embedding: no per-token scale)."""
    if not output_tokens or output_tokens <= 0 or not math.isfinite(inference_energy_wh):
        return ""
    per_1000 = inference_energy_wh * 1000.0 / output_tokens
    for label, upper in ENERGY_CLASS_BANDS:
        if per_1000 <= upper:
            return label
    return WORST_CLASS
