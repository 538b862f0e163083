"""Pictures in: decoding any picture file with limits, preprocessing a drawing or a photo
into the network's 28×28 input in named steps, the shipped sample digits, mosaics and
thumbnails, and pictures made the way users make them (pens, paper, phones)."""
