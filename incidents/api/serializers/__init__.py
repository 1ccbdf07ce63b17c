"""Input serializers (inputs.py: shape and types only) and output serializers
(outputs.py) of the incidents API."""
